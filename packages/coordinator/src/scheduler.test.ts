/**
 * The scheduler without sockets: in-memory workers that compute their slices with core's real
 * kernel, on a clock the test moves by hand. Every run is compared with the in-process one, bit
 * for bit, including runs where a worker vanishes, stalls, straggles, lies about its slice or
 * leaves the scheduler with no worker at all. Deadlines of seconds are reached without waiting.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  emptySums,
  initialState,
  loadConfig,
  loadTrainingData,
  LocalGradientSource,
  MnistLrError,
  runTraining,
  splitTrainingSet,
  type GradientSource,
  type TrainConfig,
  type TrainingData,
  type Weights,
} from '@mnist-lr/core/engine';
import type { Reason, TaskMessage } from '@mnist-lr/core/protocol';
import type { Clock, TimerHandle } from './clock.js';
import { COORDINATOR_DEFAULTS } from './defaults.js';
import { SliceScheduler, type SchedulerOptions, type SchedulerPeer, type SchedulerWorkers } from './scheduler.js';

const configPath = (name: string): string => fileURLToPath(new URL(`../../../configs/${name}`, import.meta.url));
const config1 = loadConfig(configPath('config_1.json')).config;
const config2 = loadConfig(configPath('config_2.json')).config;

/** Steps per run: enough for several hundred slices, few enough to keep the file quick. */
const STEPS = 120;

let data: TrainingData;
/** One kernel for every in-memory worker (each holds a copy of the data, which is slow to make). */
let kernel: LocalGradientSource;
/** Tells the shared kernel that the weights may have changed: it caches them by version. */
let kernelCalls = 0;
beforeAll(() => {
  data = loadTrainingData();
  kernel = new LocalGradientSource(data.train);
});

/** A clock that moves only when told: each call to fireNext jumps to the earliest timer and runs it. */
class ManualClock implements Clock {
  private time = 0;
  private order = 0;
  private readonly timers = new Map<TimerHandle, { at: number; order: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {};
    this.timers.set(handle, { at: this.time + Math.max(0, ms), order: this.order++, fn });
    return handle;
  }

  clearTimeout(timer: TimerHandle | undefined): void {
    if (timer !== undefined) this.timers.delete(timer);
  }

  /** Runs the earliest timer (ties in the order they were set); false when none is pending. */
  fireNext(): boolean {
    let next: [TimerHandle, { at: number; order: number; fn: () => void }] | undefined;
    for (const entry of this.timers) {
      if (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].order < next[1].order)) next = entry;
    }
    if (!next) return false;
    this.timers.delete(next[0]);
    this.time = next[1].at;
    next[1].fn();
    return true;
  }
}

/** What an in-memory worker does with the task it is given. */
/** slow: answers 50 ms late. */
type Behaviour = 'answer' | 'stall' | 'vanish' | 'miscount' | 'slow';

/**
 * A worker in this process: it keeps the weights a task carries, as a real worker does, and
 * answers `latencyMs` later (on the manual clock) with the exact sums of the real kernel.
 */
class MemoryPeer implements SchedulerPeer {
  version = -1;
  readonly pending = new Set<number>();
  gone = false;
  tasks = 0;
  /** Decides, per task, what this worker does; answers by default. */
  behave: (task: TaskMessage) => Behaviour = () => 'answer';
  private weights: Weights | null = null;
  private held = -1;

  constructor(
    readonly name: string,
    private readonly net: MemoryWorkers,
    private readonly latencyMs: number,
    /** Send only the touched rows of gW (as the worker does for small slices), or all of it. */
    private readonly sparse = true,
  ) {}

  send(m: TaskMessage): void {
    if (m.weights !== null) {
      // A copy, as a decoded frame is: the coordinator's weights change after the step.
      this.weights = { W: m.weights.W.slice(), b: m.weights.b.slice() };
      this.held = m.version;
    }
    // The scheduler must send weights to a worker that does not hold them.
    if (this.weights === null || this.held !== m.version) throw new Error(`${this.name} got task ${m.task} for version ${m.version} without its weights`);
    const weights = this.weights;
    const indices = m.indices.slice();
    const behaviour = this.behave(m);
    if (behaviour === 'stall') return;
    if (behaviour === 'vanish') {
      this.net.clock.setTimeout(() => this.net.lose(this), this.latencyMs);
      return;
    }
    this.net.clock.setTimeout(() => {
      if (this.gone) return;
      this.tasks++;
      const { sums, rows } = kernel.compute(indices, weights, ++kernelCalls);
      if (behaviour === 'miscount') sums.count--;
      const list = this.sparse && rows ? rows.list.slice(0, rows.size) : null;
      this.net.scheduler.onResult(this, { type: 'result', task: m.task, sums, rows: list });
    }, behaviour === 'slow' ? 50 : this.latencyMs);
  }
}

/** The pool's part, in memory: who is ready, and dropping or losing a worker. */
class MemoryWorkers implements SchedulerWorkers<MemoryPeer> {
  readonly clock = new ManualClock();
  readonly peers: MemoryPeer[] = [];
  readonly dropped: Array<{ peer: string; reason: Reason; detail: string | undefined; at: number }> = [];
  readonly log: string[] = [];
  readonly scheduler: SliceScheduler<MemoryPeer>;

  constructor(options: Partial<SchedulerOptions> = {}) {
    this.scheduler = new SliceScheduler<MemoryPeer>(this, {
      stepTimeoutMs: COORDINATOR_DEFAULTS.stepTimeoutMs,
      minStepTimeoutMs: COORDINATOR_DEFAULTS.minStepTimeoutMs,
      deadlineFactor: COORDINATOR_DEFAULTS.deadlineFactor,
      backupFactor: COORDINATOR_DEFAULTS.backupFactor,
      workerWaitMs: COORDINATOR_DEFAULTS.workerWaitMs,
      log: (line) => this.log.push(line),
      clock: this.clock,
      ...options,
    });
  }

  ready(): MemoryPeer[] {
    return this.peers.filter((p) => !p.gone);
  }

  drop(peer: MemoryPeer, reason: Reason, detail?: string): void {
    if (peer.gone) return;
    this.dropped.push({ peer: peer.name, reason, detail, at: this.clock.now() });
    this.lose(peer, reason);
  }

  /** The connection is gone (closed, or dropped): the scheduler is told at once, as the pool does. */
  lose(peer: MemoryPeer, reason?: Reason): void {
    peer.gone = true;
    this.scheduler.onLost(peer, reason);
  }

  join(name: string, latencyMs: number, sparse = true): MemoryPeer {
    const peer = new MemoryPeer(name, this, latencyMs, sparse);
    this.peers.push(peer);
    this.scheduler.onReady(peer);
    return peer;
  }
}

/** Trains `steps` steps of `config` from a fresh state with `source`; returns the weights. */
async function trainSteps(config: TrainConfig, source: GradientSource, steps: number, drive?: MemoryWorkers): Promise<Weights> {
  const state = initialState(config);
  const stop = new AbortController();
  const run = runTraining({
    config,
    data,
    split: splitTrainingSet(data.train.count, config),
    source,
    state,
    signal: stop.signal,
    hooks: { onStep: (info) => void (info.step >= steps && stop.abort()) },
  });
  await (drive ? untilSettled(drive.clock, run) : run);
  expect(state.step).toBe(steps);
  return state.weights;
}

/**
 * Runs the simulation: lets every pending callback and promise settle, then moves the clock to
 * the next timer (a worker's answer, a deadline, a backup, the wait for workers), until `run` ends.
 */
async function untilSettled<T>(clock: ManualClock, run: Promise<T>): Promise<T> {
  let settled = false;
  run.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    if (settled) return run;
    if (!clock.fireNext()) throw new Error('the run waits for nothing: no timer is pending and it has not ended');
  }
}

const reference = new Map<TrainConfig, Promise<Weights>>();
/** The in-process weights after STEPS steps, computed once per config. */
function inProcess(config: TrainConfig): Promise<Weights> {
  let p = reference.get(config);
  if (!p) reference.set(config, (p = trainSteps(config, kernel, STEPS)));
  return p;
}

/** Entries of W and b whose bits differ. */
function bitDifferences(a: Weights, b: Weights): number {
  let n = 0;
  for (let i = 0; i < a.W.length; i++) if (!Object.is(a.W[i], b.W[i])) n++;
  for (let k = 0; k < a.b.length; k++) if (!Object.is(a.b[k], b.b[k])) n++;
  return n;
}

describe('SliceScheduler, with in-memory workers computing with the real kernel', () => {
  it.each([
    ['config_1', 1, config1],
    ['config_1', 2, config1],
    ['config_1', 3, config1],
    ['config_2 (momentum)', 3, config2],
  ] as const)('%s with %i worker(s) gives the in-process weights, bit for bit', async (_name, workers, config) => {
    const net = new MemoryWorkers();
    // Different latencies, so slices arrive in a different order from the one they were sent in;
    // one worker sends its full gradient, the others only the rows their slice touched.
    for (let i = 0; i < workers; i++) net.join(`w${i + 1}`, [7, 2, 4][i]!, i !== 1);
    const weights = await trainSteps(config, net.scheduler, STEPS, net);
    expect(bitDifferences(weights, await inProcess(config))).toBe(0);
    expect(net.peers.reduce((n, p) => n + p.tasks, 0)).toBe(STEPS * workers);
    expect(net.dropped).toEqual([]);
    expect(net.scheduler.stats).toMatchObject({ reassigned: 0, backups: 0, lateAnswers: 0 });
  });

  it('a worker that disconnects mid-step loses its slice to another; the weights are unchanged', async () => {
    const net = new MemoryWorkers();
    net.join('w1', 2);
    net.join('w2', 3);
    const leaver = net.join('w3', 5);
    let seen = 0;
    leaver.behave = () => (++seen === 40 ? 'vanish' : 'answer');
    const weights = await trainSteps(config1, net.scheduler, STEPS, net);
    expect(bitDifferences(weights, await inProcess(config1))).toBe(0);
    expect(net.scheduler.stats.reassigned).toBe(1);
    expect(leaver.tasks).toBe(39);
    expect(net.ready().map((p) => p.name)).toEqual(['w1', 'w2']);
  });

  it('a worker that stalls is dropped at its deadline, on the clock, and its slice recomputed', async () => {
    const net = new MemoryWorkers();
    net.join('w1', 2);
    net.join('w2', 3);
    const staller = net.join('w3', 4);
    let seen = 0;
    let sentAt = NaN;
    let deadline = NaN;
    staller.behave = () => {
      if (++seen !== 30) return 'answer';
      sentAt = net.clock.now();
      deadline = net.scheduler.currentDeadline();
      return 'stall';
    };
    const weights = await trainSteps(config1, net.scheduler, STEPS, net);
    expect(bitDifferences(weights, await inProcess(config1))).toBe(0);
    // Slices take 2–4 ms here: 20× the median is below the 1 s floor, so the deadline is the floor.
    expect(deadline).toBe(1000);
    expect(net.dropped).toEqual([{ peer: 'w3', reason: 'STEP_DEADLINE', detail: 'no answer to a slice within 1000 ms', at: sentAt + 1000 }]);
    expect(net.scheduler.stats.reassigned).toBe(1);
  });

  it('before any slice is timed, the deadline is the step timeout', async () => {
    const net = new MemoryWorkers({ stepTimeoutMs: 7000 });
    const staller = net.join('w1', 1);
    staller.behave = () => 'stall';
    net.clock.setTimeout(() => net.join('w2', 1), 6999);
    const weights = await trainSteps(config1, net.scheduler, STEPS, net);
    expect(bitDifferences(weights, await inProcess(config1))).toBe(0);
    expect(net.dropped).toEqual([{ peer: 'w1', reason: 'STEP_DEADLINE', detail: 'no answer to a slice within 7000 ms', at: 7000 }]);
  });

  it('a straggler gets a backup; the first answer wins and the late one changes nothing', async () => {
    const net = new MemoryWorkers({ backupFactor: 3 });
    net.join('w1', 2);
    net.join('w2', 2);
    const straggler = net.join('w3', 2);
    let seen = 0;
    // Every tenth of w3's slices takes 50 ms: past 3× the 2 ms median, well within the 1 s
    // deadline. Each late answer arrives some 25 steps later, before the run ends; meanwhile w3,
    // busy with it, sits the steps out (so it is given fewer slices than the others).
    straggler.behave = () => (++seen % 10 === 0 && seen <= 80 ? 'slow' : 'answer');
    const weights = await trainSteps(config1, net.scheduler, STEPS, net);
    expect(bitDifferences(weights, await inProcess(config1))).toBe(0);
    const slow = Math.min(8, Math.floor(seen / 10));
    expect(slow).toBeGreaterThanOrEqual(3);
    expect(net.scheduler.stats).toMatchObject({ reassigned: 0, backups: slow });
    // The last late answer may come after the last step.
    expect(net.scheduler.stats.lateAnswers).toBeGreaterThanOrEqual(slow - 1);
    expect(net.scheduler.stats.lateAnswers).toBeLessThanOrEqual(slow);
    expect(net.dropped).toEqual([]);
  });

  it('a result over the wrong number of samples is refused with BAD_RESULT and the slice recomputed', async () => {
    const net = new MemoryWorkers();
    net.join('w1', 2);
    const liar = net.join('w2', 3);
    let seen = 0;
    liar.behave = () => (++seen === 25 ? 'miscount' : 'answer');
    const weights = await trainSteps(config1, net.scheduler, STEPS, net);
    expect(bitDifferences(weights, await inProcess(config1))).toBe(0);
    expect(net.dropped.map((d) => [d.peer, d.reason])).toEqual([['w2', 'BAD_RESULT']]);
    expect(net.scheduler.stats.reassigned).toBe(1);
  });

  it('a result for a task the worker was not given is refused with UNEXPECTED_MESSAGE', async () => {
    const net = new MemoryWorkers();
    const w1 = net.join('w1', 3);
    const w2 = net.join('w2', 3);
    let seen = 0;
    w2.behave = () => {
      // 1 ms after this task, w2 answers the task w1 holds.
      if (++seen === 20) net.clock.setTimeout(() => net.scheduler.onResult(w2, { type: 'result', task: [...w1.pending][0]!, sums: emptySums(), rows: null }), 1);
      return 'answer';
    };
    const weights = await trainSteps(config1, net.scheduler, STEPS, net);
    expect(bitDifferences(weights, await inProcess(config1))).toBe(0);
    expect(net.dropped.map((d) => [d.peer, d.reason])).toEqual([['w2', 'UNEXPECTED_MESSAGE']]);
    expect(net.scheduler.stats.reassigned).toBe(1);
  });

  it('with no worker left, a worker that joins within --worker-wait takes the orphaned slice', async () => {
    const net = new MemoryWorkers({ workerWaitMs: 60_000 });
    const only = net.join('w1', 2);
    let seen = 0;
    only.behave = () => {
      if (++seen !== 50) return 'answer';
      net.clock.setTimeout(() => net.join('w2', 3), 59_000);
      return 'vanish';
    };
    const weights = await trainSteps(config1, net.scheduler, STEPS, net);
    expect(bitDifferences(weights, await inProcess(config1))).toBe(0);
    expect(net.log).toEqual(['no worker connected; waiting up to 60 s for one to join']);
    expect(net.scheduler.stats.reassigned).toBe(1);
  });

  it('with no worker left and none joining, the step fails with NO_WORKERS after --worker-wait', async () => {
    const net = new MemoryWorkers({ workerWaitMs: 30_000 });
    const only = net.join('w1', 2);
    let seen = 0;
    let lostAt = NaN;
    only.behave = () => {
      if (++seen !== 50) return 'answer';
      lostAt = net.clock.now() + 2;
      return 'vanish';
    };
    const failed = await trainSteps(config1, net.scheduler, STEPS, net).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(MnistLrError);
    expect((failed as MnistLrError).code).toBe('NO_WORKERS');
    expect((failed as MnistLrError).message).toMatch(/no worker joined within 30 s/);
    expect(net.clock.now()).toBe(lostAt + 30_000);
  });
});
