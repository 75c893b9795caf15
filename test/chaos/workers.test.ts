import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator, type CoordinatorOptions } from '@mnist-lr/coordinator';
import { loadTrainingData, train, type StepInfo, type TrainConfig, type TrainingData, type Weights } from '@mnist-lr/core';
import { REASONS } from '@mnist-lr/core/protocol';
import { CuttingProxy, Dice, differingBytes, Fleet, chaosSeed, sleep, startEvilPeer, startLegacyWorker, withTimeout, type EvilMode, type EvilPeer, type LegacyPeer, type Tracked } from '../helpers/chaos.js';
import { firstDifference, originConfig, waitFor } from '../helpers/cluster.js';

/**
 * Chaos against real worker processes (DESIGN.md §2, §5, §6): workers are SIGKILLed and replaced,
 * SIGSTOPped past their deadline and resumed, rescued by backup workers, cut off by a TCP proxy,
 * and joined by authenticated peers that lie. Every run must end with weights bit-identical to the
 * in-process run of the same config, and no process may end in a way the test did not cause.
 *
 * Fault timing comes from a seeded Rng (test/helpers/chaos.ts); the seed is printed, and
 * MNIST_LR_CHAOS_SEED=<seed> replays the same faults at the same steps.
 */

const SEED = chaosSeed();
const CONFIGS = {
  /** 600 steps of 100 samples. */
  b100: originConfig('config_1', { num_epoches: 1 }),
  /** 60 steps of 1000 samples. */
  b1000: originConfig('config_1', { num_epoches: 1, batch_size: 1000 }),
};
/** Longest a single coordinator run may take before the case fails (it normally takes a few seconds). */
const RUN_MS = 40_000;
/** Longest wait for a worker to (re)join, for a process to exit, for an expected log line. */
const WAIT_MS = 15_000;

const tally = { faults: 0, runs: 0, bytesDiffering: 0, timings: [] as string[] };
const fleet = new Fleet();
let data: TrainingData;
const reference = new Map<TrainConfig, Weights>();

beforeAll(async () => {
  console.log(`chaos seed ${SEED} (replay with MNIST_LR_CHAOS_SEED=${SEED})`);
  data = loadTrainingData();
  for (const config of Object.values(CONFIGS)) reference.set(config, (await train({ config, data })).weights);
});

afterAll(() => fleet.killAll());

function secret(): string {
  return randomBytes(16).toString('hex');
}

interface Cluster {
  coordinator: Coordinator;
  log: string[];
  procs: Tracked[];
  token: string;
  config: TrainConfig;
  started: number;
  abort: AbortController;
}

/** A coordinator on 127.0.0.1 with its log captured; `onStep` gets the 1-based step of the run. */
async function cluster(config: TrainConfig, options: Partial<CoordinatorOptions>, onStep?: (step: number, info: StepInfo, c: Cluster) => void | Promise<void>): Promise<Cluster> {
  const log: string[] = [];
  const token = secret();
  const abort = new AbortController();
  const c: Cluster = { coordinator: undefined as unknown as Coordinator, log, procs: [], token, config, started: Date.now(), abort };
  c.coordinator = await Coordinator.start({
    config,
    data,
    token,
    host: '127.0.0.1',
    workerWaitMs: WAIT_MS,
    signal: abort.signal,
    log: (line) => log.push(`${((Date.now() - c.started) / 1000).toFixed(3)} ${line}`),
    hooks: onStep ? { onStep: (info) => onStep(info.epoch * info.steps + info.step, info, c) } : undefined,
    ...options,
  });
  return c;
}

function spawnWorker(c: Cluster, label: string, url = c.coordinator.url): Tracked {
  const t = fleet.start(url, c.token, label);
  c.procs.push(t);
  return t;
}

/** Lines of the coordinator log that say the worker labelled `label` left, with their reason. */
function leaves(c: Cluster, label: string): string[] {
  return c.log.filter((l) => l.includes(`(${label}) left:`));
}

function joins(c: Cluster, label: string): number {
  return c.log.filter((l) => l.includes(`(${label}) joined`)).length;
}

function tail(c: Cluster, n = 25): string {
  return `seed ${SEED}\n--- coordinator log (last ${n}) ---\n${c.log.slice(-n).join('\n')}\n--- workers ---\n${c.procs.map((t) => fleet.describe(t)).join('\n')}`;
}

/**
 * Runs the cluster to the end (bounded), then checks what every run must show: the weights of the
 * undisturbed in-process run, and every process of this run ended with code 0 or by our signal.
 */
async function finish(name: string, c: Cluster): Promise<Weights> {
  let weights: Weights;
  try {
    const run = c.coordinator.run();
    weights = (await withTimeout(run, RUN_MS, `${name}: the run to complete`).catch((e: Error) => {
      c.abort.abort();
      throw new Error(`${e.message}\n${tail(c)}`);
    })).weights;
    tally.runs++;
  } finally {
    await withTimeout(c.coordinator.close(), WAIT_MS, 'the coordinator to close');
  }
  await fleet.reap(c.procs, WAIT_MS);
  const differing = differingBytes(weights, reference.get(c.config)!);
  tally.bytesDiffering += differing;
  const seconds = ((Date.now() - c.started) / 1000).toFixed(1);
  tally.timings.push(`${name} ${seconds} s`);
  const t = c.coordinator.traffic;
  console.log(`[chaos] ${name}: ${seconds} s, stats ${JSON.stringify(c.coordinator.stats)}, sent ${t.framesOut} frames / ${(t.bytesOut / 1e6).toFixed(1)} MB, model bytes differing ${differing}`);
  expect(firstDifference(weights, reference.get(c.config)!), tail(c)).toBe(-1);
  expect(fleet.unexpected(c.procs).map((t) => fleet.describe(t)), tail(c)).toEqual([]);
  return weights;
}

describe('chaos: worker processes', () => {
  it('1. SIGKILL at random steps, each victim replaced by a new process: weights identical', async () => {
    const dice = new Dice(SEED, 1);
    const steps = 600;
    const killSteps = dice.spread(dice.int(3, 4), 25, 450, 40);
    const kills: { label: string; step: number; delayMs: number; reassignedBefore: number }[] = [];
    let replacements = 0;
    const c = await cluster(CONFIGS.b100, { minWorkers: 4 }, (step, _info, c) => {
      if (killSteps.includes(step)) {
        // The first kill lands between two steps: the next step's slice goes to a dead socket
        // before the coordinator can see the drop. Later ones land at random moments mid-step.
        const delayMs = kills.length === 0 ? 0 : dice.pick([0, 1, 2, 4, 8]);
        const victim = dice.pick(fleet.running(c.procs).filter((t) => !kills.some((k) => k.label === t.label)));
        kills.push({ label: victim.label, step, delayMs, reassignedBefore: c.coordinator.stats.reassigned });
        if (delayMs === 0) fleet.signal(victim, 'SIGKILL');
        else setTimeout(() => fleet.signal(victim, 'SIGKILL'), delayMs);
        spawnWorker(c, `c1-new${++replacements}`);
        tally.faults++;
      }
      // Before the end, every replacement must have joined (so each ends with RUN_COMPLETE).
      return step === steps - 15 ? waitFor(() => c.coordinator.workers === 4, WAIT_MS, 'every replacement to join') : undefined;
    });
    for (let i = 1; i <= 4; i++) spawnWorker(c, `c1-w${i}`);
    await finish('sigkill', c);
    console.log(`[chaos] sigkill: kills ${JSON.stringify(kills)}, reassigned ${c.coordinator.stats.reassigned}`);
    expect(kills.length).toBe(killSteps.length);
    expect(c.coordinator.stats.reassigned, tail(c)).toBeGreaterThanOrEqual(1);
    for (const t of c.procs) {
      if (kills.some((k) => k.label === t.label)) expect(t.exit?.signal, fleet.describe(t)).toBe('SIGKILL');
      else {
        expect(t.exit?.code, fleet.describe(t)).toBe(0);
        expect(Fleet.slices(t), fleet.describe(t)).toBeGreaterThan(0);
      }
    }
  }, 60_000);

  it('1b. SIGKILL of every worker at once: the step waits for new processes, then completes: weights identical', async () => {
    const dice = new Dice(SEED, 11);
    const killStep = dice.int(5, 45);
    let killed: Tracked[] = [];
    const c = await cluster(CONFIGS.b1000, { minWorkers: 2 }, (step, _info, c) => {
      // Before the end, both new workers must have joined (so each ends with RUN_COMPLETE).
      if (step === 55) return waitFor(() => c.coordinator.workers === 2, WAIT_MS, 'both new workers to join');
      if (step !== killStep) return undefined;
      killed = fleet.running(c.procs);
      for (const t of killed) fleet.signal(t, 'SIGKILL');
      tally.faults++;
      // Started only after every old worker is dead: the slices sent meanwhile have no one to go to.
      void Promise.all(killed.map((t) => t.proc.done)).then(() => {
        spawnWorker(c, 'c1b-new1');
        spawnWorker(c, 'c1b-new2');
      });
      return undefined;
    });
    spawnWorker(c, 'c1b-w1');
    spawnWorker(c, 'c1b-w2');
    await finish('sigkill-all', c);
    console.log(`[chaos] sigkill-all: both workers killed after step ${killStep}; reassigned ${c.coordinator.stats.reassigned}; ${c.log.filter((l) => l.includes('no worker connected')).length} wait(s) for a worker`);
    expect(killed.length).toBe(2);
    expect(c.log.some((l) => l.includes('no worker connected')), tail(c)).toBe(true);
    for (const t of c.procs) {
      if (killed.includes(t)) expect(t.exit?.signal, fleet.describe(t)).toBe('SIGKILL');
      else expect(Fleet.slices(t), fleet.describe(t)).toBeGreaterThan(0);
    }
  }, 60_000);

  it('2. SIGSTOP past the deadline, then SIGCONT: dropped, slice reassigned, rejoins by itself: weights identical', async () => {
    const dice = new Dice(SEED, 2);
    const steps = 600;
    const stopSteps = dice.spread(2, 40, 420, 120);
    interface Cycle { victim: Tracked; step: number; bound: number; leavesBefore: number; joinsBefore: number; pauseMs: number; continued: boolean; error?: string }
    const cycles: Cycle[] = [];
    let current = 0;
    const stop = (c: Cluster, step: number): void => {
      const candidates = fleet.running(c.procs).filter((t) => !cycles.some((y) => y.victim === t));
      const victim = dice.pick(candidates);
      const pauseMs = dice.int(100, 800);
      const delayMs = dice.pick([0, 0, 1, 3]);
      const cycle: Cycle = { victim, step, bound: 0, leavesBefore: 0, joinsBefore: 0, pauseMs, continued: false };
      cycles.push(cycle);
      tally.faults++;
      const doStop = (): void => {
        // Slices this worker can have computed when it stops: at most one per step so far, any
        // reassigned ones, the one it may be computing, and one more queued on its socket.
        cycle.bound = current + c.coordinator.stats.reassigned + 2;
        cycle.leavesBefore = leaves(c, victim.label).length;
        cycle.joinsBefore = joins(c, victim.label);
        fleet.signal(victim, 'SIGSTOP');
        void (async () => {
          try {
            await waitFor(() => leaves(c, victim.label).length > cycle.leavesBefore, WAIT_MS, `${victim.label} to be dropped`);
          } catch (e) {
            cycle.error = (e as Error).message;
          }
          await sleep(pauseMs); // stopped for longer than its deadline, and then some
          fleet.signal(victim, 'SIGCONT');
          cycle.continued = true;
        })();
      };
      if (delayMs === 0) doStop();
      else setTimeout(doStop, delayMs);
    };
    const back = (c: Cluster, y: Cycle): boolean => y.continued && joins(c, y.victim.label) > y.joinsBefore;
    const c = await cluster(CONFIGS.b100, { minWorkers: 3, stepTimeoutMs: 1500, minStepTimeoutMs: 300 }, async (step, _info, c) => {
      current = step;
      if (stopSteps.includes(step)) {
        // One worker stopped at a time: the previous victim must be back first.
        const prev = cycles.at(-1);
        if (prev && !back(c, prev)) await waitFor(() => back(c, prev), WAIT_MS, `${prev.victim.label} to rejoin`);
        stop(c, step);
      }
      if (step === steps - 15) await waitFor(() => cycles.every((y) => back(c, y)) && c.coordinator.workers === 3, WAIT_MS, 'the stopped workers to rejoin');
    });
    for (let i = 1; i <= 3; i++) spawnWorker(c, `c2-w${i}`);
    await finish('sigstop', c);
    expect(cycles.length).toBe(2);
    for (const y of cycles) {
      const left = leaves(c, y.victim.label).slice(y.leavesBefore);
      const slices = Fleet.slices(y.victim);
      console.log(`[chaos] sigstop: ${y.victim.label} stopped after step ${y.step}, resumed ${y.pauseMs} ms after its drop: ${left[0]}; joins ${joins(c, y.victim.label)}; ${slices} slices in all, at most ${y.bound} before SIGCONT`);
      expect(y.error, tail(c)).toBeUndefined();
      expect(left[0], tail(c)).toMatch(/\[(STEP_DEADLINE|HEARTBEAT_TIMEOUT)\]/);
      expect(joins(c, y.victim.label), tail(c)).toBeGreaterThan(y.joinsBefore);
      expect(y.victim.exit?.code, fleet.describe(y.victim)).toBe(0);
      // It computed slices on its new connection: more than it can have computed before the stop.
      expect(slices, fleet.describe(y.victim)).toBeGreaterThan(y.bound);
    }
    expect(c.coordinator.stats.reassigned, tail(c)).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('3a. backup workers (backupFactor 3) rescue a SIGSTOPped worker\'s slices: weights identical', async () => {
    const dice = new Dice(SEED, 3);
    const steps = 600;
    const stopStep = dice.int(60, 300);
    const pauseMs = dice.int(600, 1400);
    let victim: Tracked | undefined;
    let continued = false;
    const c = await cluster(CONFIGS.b100, { minWorkers: 3, backupFactor: 3 }, (step, _info, c) => {
      if (step === stopStep) {
        victim = dice.pick(c.procs);
        fleet.signal(victim, 'SIGSTOP');
        tally.faults++;
        setTimeout(() => {
          fleet.signal(victim!, 'SIGCONT');
          continued = true;
        }, pauseMs);
      }
      return step === steps - 15 ? waitFor(() => continued && c.coordinator.workers === 3, WAIT_MS, 'the stopped worker to be resumed and connected') : undefined;
    });
    for (let i = 1; i <= 3; i++) spawnWorker(c, `c3-w${i}`);
    await finish('backup+sigstop', c);
    const s = c.coordinator.stats;
    console.log(`[chaos] backup+sigstop: ${victim?.label} stopped after step ${stopStep} for ${pauseMs} ms; stats ${JSON.stringify(s)}; victim drops: ${leaves(c, victim!.label).join(' | ') || 'none'}`);
    expect(s.backups, tail(c)).toBeGreaterThanOrEqual(1);
    // Unless it was dropped meanwhile, the resumed worker answers the slices its backups already
    // answered: those late answers must be ignored (the weights above prove they changed nothing).
    if (leaves(c, victim!.label).length === 0) expect(s.lateAnswers, tail(c)).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('3b. backup workers (backupFactor 3) with no fault: weights identical, late answers ignored', async () => {
    const c = await cluster(CONFIGS.b100, { minWorkers: 3, backupFactor: 3 });
    for (let i = 1; i <= 3; i++) spawnWorker(c, `c3b-w${i}`);
    await finish('backup', c);
    expect(c.coordinator.stats.reassigned).toBe(0);
  }, 60_000);

  it('4. a TCP proxy cuts connections at random moments; workers reconnect with backoff: weights identical', async () => {
    const dice = new Dice(SEED, 4);
    const steps = 600;
    const cutSteps = dice.spread(8, 10, 540, 20);
    let proxy: CuttingProxy | undefined;
    const c = await cluster(CONFIGS.b100, { minWorkers: 3 }, (step, _info, c) => {
      if (cutSteps.includes(step)) {
        const delayMs = dice.pick([0, 0, 1, 2, 5, 10]);
        setTimeout(() => {
          if (proxy!.cut(dice)) tally.faults++;
        }, delayMs);
      }
      return step === steps - 15 ? waitFor(() => c.coordinator.workers === 3, WAIT_MS, 'the cut-off workers to reconnect') : undefined;
    });
    proxy = await CuttingProxy.start(c.coordinator.port);
    try {
      const proxied = [spawnWorker(c, 'c4-p1', proxy.url), spawnWorker(c, 'c4-p2', proxy.url)];
      spawnWorker(c, 'c4-direct');
      await finish('proxy-cuts', c);
      const reconnects = proxied.map((t) => (t.exit?.output.match(/reconnecting/g) ?? []).length);
      const drops = c.log.filter((l) => / left: /.test(l)).length;
      console.log(`[chaos] proxy-cuts: ${proxy.cuts} connections cut of ${proxy.accepted} relayed; coordinator saw ${drops} drops, workers reconnected ${reconnects.join(' + ')} times; reassigned ${c.coordinator.stats.reassigned}`);
      expect(proxy.cuts, tail(c)).toBeGreaterThanOrEqual(3);
      expect(drops, tail(c)).toBeGreaterThanOrEqual(1);
      expect(reconnects.reduce((a, b) => a + b, 0), tail(c)).toBeGreaterThanOrEqual(1);
      for (const t of c.procs) expect(t.exit?.code, fleet.describe(t)).toBe(0);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  const EXPECTED_CLOSE: Record<EvilMode, number[]> = {
    nan: [REASONS.BAD_RESULT.close],
    'wrong-count': [REASONS.BAD_RESULT.close],
    'foreign-task': [REASONS.UNEXPECTED_MESSAGE.close],
    silent: [REASONS.STEP_DEADLINE.close, REASONS.HEARTBEAT_TIMEOUT.close],
  };
  const EXPECTED_REASON: Record<EvilMode, RegExp> = {
    nan: /\[BAD_RESULT\]/,
    'wrong-count': /\[BAD_RESULT\]/,
    'foreign-task': /\[UNEXPECTED_MESSAGE\]/,
    silent: /\[(STEP_DEADLINE|HEARTBEAT_TIMEOUT)\]/,
  };
  for (const [n, mode] of (['nan', 'wrong-count', 'foreign-task', 'silent'] as const).entries()) {
    it(`5${'abcd'[n]}. an authenticated peer that answers with ${mode}: evicted with close ${EXPECTED_CLOSE[mode].join('/')}, slice recomputed, weights identical`, async () => {
      const dice = new Dice(SEED, 50 + n);
      const joinStep = dice.int(5, 40);
      let evil: EvilPeer | undefined;
      const reassignedAt: number[] = [];
      const label = `evil-${mode}`;
      const c = await cluster(CONFIGS.b1000, { minWorkers: 2, stepTimeoutMs: 1500, minStepTimeoutMs: 300 }, async (step, _info, c) => {
        if (step !== joinStep) return;
        evil = startEvilPeer(c.coordinator.url, c.token, data.fingerprint, mode, label);
        tally.faults++;
        // Hold the loop until it is in, so that the next step gives it a slice.
        await withTimeout(evil.welcomed, WAIT_MS, `${label} to be welcomed`);
        await waitFor(() => c.coordinator.workers === 3, WAIT_MS, `${label} to be ready`);
        reassignedAt.push(c.coordinator.stats.reassigned);
      });
      spawnWorker(c, `c5${mode}-w1`);
      spawnWorker(c, `c5${mode}-w2`);
      try {
        await finish(`evil ${mode}`, c);
      } finally {
        evil?.terminate();
      }
      const closed = await withTimeout(evil!.closed, WAIT_MS, `${label}'s connection to close`);
      const left = leaves(c, label);
      console.log(`[chaos] evil ${mode}: joined before step ${joinStep + 1}, ${evil!.tasks} task(s), closed ${closed.code} "${closed.reason}"; ${left[0]}; reassigned ${c.coordinator.stats.reassigned}`);
      expect(evil!.tasks, tail(c)).toBeGreaterThanOrEqual(1);
      expect(EXPECTED_CLOSE[mode], `close ${closed.code} ${closed.reason}\n${tail(c)}`).toContain(closed.code);
      expect(left.length, tail(c)).toBe(1);
      expect(left[0]).toMatch(EXPECTED_REASON[mode]);
      // Its slice was given to an honest worker.
      expect(c.coordinator.stats.reassigned - reassignedAt[0]!, tail(c)).toBeGreaterThanOrEqual(1);
    }, 40_000);
  }

  it('6. a worker of the previous build (protocol 1 as of c97e702) joins mid-run: refused at the handshake with PROTOCOL_MISMATCH', async () => {
    // The wire format changed in fa0a20d (a separate `weights` message; tasks without weights;
    // results with a row list) while PROTOCOL_VERSION stayed 1. A worker of the earlier build must
    // be refused at its hello with the coded, fatal PROTOCOL_MISMATCH, not welcomed and then sent
    // frames it cannot read (it then closes with MALFORMED_MESSAGE and, as the real worker does,
    // reconnects forever).
    const dice = new Dice(SEED, 60);
    const joinStep = dice.int(5, 40);
    let legacy: LegacyPeer | undefined;
    const c = await cluster(CONFIGS.b1000, { minWorkers: 1 }, async (step, _info, c) => {
      if (step !== joinStep) return;
      legacy = startLegacyWorker(c.coordinator.url, c.token, data.fingerprint, 'c97e702-worker');
      tally.faults++;
      // Hold the loop until the handshake is over one way or the other (refused, or welcomed).
      const l = legacy;
      await waitFor(() => l.welcomed || l.ended, WAIT_MS, "the earlier build's handshake");
    });
    spawnWorker(c, 'c6-w1');
    try {
      await finish('legacy worker', c);
    } finally {
      legacy?.terminate();
    }
    const closed = await withTimeout(legacy!.closed, WAIT_MS, "the earlier build's connection to end");
    const outcome = { welcomed: legacy!.welcomed, ...closed };
    console.log(`[chaos] legacy worker: ${JSON.stringify(outcome)}; ${leaves(c, 'c97e702-worker')[0] ?? 'no leave logged'}`);
    expect(outcome, tail(c)).toEqual({ welcomed: false, code: REASONS.PROTOCOL_MISMATCH.close, reason: expect.any(String), by: 'coordinator' });
  }, 40_000);

  it('summary: no model byte differs, no process crashed unexpectedly', async () => {
    await fleet.reap(fleet.all, WAIT_MS);
    const crashed = fleet.unexpected();
    console.log(
      `chaos summary: seed ${SEED}; faults injected ${tally.faults}; runs completed ${tally.runs}; model bytes differing ${tally.bytesDiffering}; processes crashed unexpectedly ${crashed.length} (of ${fleet.all.length} started); ${tally.timings.join(', ')}`,
    );
    expect(tally.bytesDiffering).toBe(0);
    expect(crashed.map((t) => fleet.describe(t))).toEqual([]);
  }, 30_000);
});
