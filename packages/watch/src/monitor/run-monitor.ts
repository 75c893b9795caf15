/**
 * The run's observable state in one place. It listens to the run: the training loop's hooks (an
 * in-process run), or a coordinator's events (its workers, refusals, reassignments); each is a
 * plain counter or field update. Everything derived (quantiles, rates, ETA, the /status document,
 * Prometheus values) is computed only when someone reads it. Watching therefore costs a step a
 * clock read, a bucket increment and a few stores.
 */
import { DELTA_SCALE, epochSteps, type EngineHooks, type EpochMetrics, type StepInfo, type TrainConfig, type TrainState } from '@mnist-lr/core/engine';
import { inert, LABEL_MAX } from '@mnist-lr/core/protocol';

import { EventLog } from './event-log.js';
import { eta, RateMeter, remaining } from './eta.js';
import type { EventKind, RunEvent, RunState, Status } from './status-schema.js';
import { StepHistogram } from './step-histogram.js';
import { WorkerRecord } from './worker-record.js';

/** What a monitor shows of the run itself: names, config, dataset, kernel, engine. */
export interface RunInfo {
  /** Config name and the file it came from. */
  name: string;
  path: string;
  config: TrainConfig;
  /** Dataset fingerprint (sha256 of the four IDX files). */
  dataset: string;
  kernel: string;
  /** "in-process", "coordinator with 2 local worker processes", … */
  engine: string;
  /** Images in the training set (the held-out validation ones included): with the config, the steps of an epoch. */
  trainImages: number;
}

/** How often a monitor samples, and its clocks. */
export interface RunMonitorOptions {
  /** Milliseconds between samples of the run's and each worker's speed. Default 500. */
  sampleMs?: number;
  /** Points of an epoch's training-loss curve, spread evenly over its steps. Default 100. */
  trainLossPoints?: number;
  /** Gone workers kept in /status (the newest). Default 32. */
  goneKept?: number;
  /** Wall clock for the times shown, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Monotonic clock for durations, ms. Default performance.now. */
  clock?: () => number;
}

/** Why a connection ended without one of the protocol's codes (a killed process, a cut cable). */
export const CONNECTION_LOST = 'CONNECTION_LOST';

/** Counts by reason code. */
export type ReasonCounts = Partial<Record<string, number>>;

/** Frames and bytes exchanged with workers, both ways. */
export interface TrafficCounts {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
}

/**
 * Counts that whoever feeds a monitor keeps itself, read live whenever someone looks (see
 * RunMonitor.countsFrom): a coordinator's one count of what it refused and evicted, and of its
 * traffic.
 */
export interface KeptCounts {
  refused: ReasonCounts;
  evictions: ReasonCounts;
  traffic: TrafficCounts;
}

/**
 * A run's observable state: counters, events, workers, progress and ETA, written by the training
 * loop, the pool and the scheduler, read by /status, /metrics, the page and the terminal.
 */
export class RunMonitor {
  /** What the monitor shows of the run itself; its names can change (see describe()). */
  readonly info: RunInfo;
  state: RunState = 'waiting';
  reason: string | null = 'starting';
  readonly events = new EventLog();
  readonly stepTimes = new StepHistogram();
  readonly startedAt: number;
  /** Bumped on every change a watcher could show; lets a push channel skip idle periods. */
  version = 0;

  readonly counters = {
    joins: 0,
    leaves: {} as Record<string, number>,
    reassignments: {} as Record<string, number>,
    backups: 0,
    checkpoints: 0,
    decays: 0,
    steps: 0,
  };
  /** Refusals, evictions and traffic: counted by the coordinator that feeds this monitor, if any. */
  private kept: KeptCounts = { refused: {}, evictions: {}, traffic: { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0 } };

  private readonly workers = new Map<number, WorkerRecord>();
  private readonly gone: WorkerRecord[] = [];
  private readonly rate = new RateMeter();
  private readonly sampleMs: number;
  private readonly goneKept: number;
  private readonly now: () => number;
  private readonly clock: () => number;
  private epoch = 0;
  private step = 0;
  private lr: number;
  /** Optimiser steps in one epoch. */
  private readonly stepsPerEpoch: number;
  /** Finished epochs: the run's own list (its state's history), read, never copied. */
  private history: readonly EpochMetrics[] = [];
  private readonly trainLossPoints: number;
  private trainLoss: Array<[number, number]> = [];
  private trainLossEnded = false;
  private lastStepAt = NaN;
  private lastSample = -Infinity;
  private lastWorkerSample: number;
  private endOfStepsAt = NaN;
  /** Seconds from an epoch's last step to its outputs being written (evaluation, decay, logs). */
  private evalSeconds = 0;
  private checkpointInfo: Status['checkpoint'] = null;
  private outputs: Record<string, string> | null = null;
  private readonly links: { label: string; href: string }[] = [];
  private confusion: number[][] | null = null;

  constructor(info: RunInfo, options: RunMonitorOptions = {}) {
    this.info = { ...info };
    this.sampleMs = options.sampleMs ?? 500;
    this.trainLossPoints = options.trainLossPoints ?? 100;
    this.goneKept = options.goneKept ?? 32;
    this.now = options.now ?? Date.now;
    this.clock = options.clock ?? (() => performance.now());
    this.startedAt = this.now();
    this.lastWorkerSample = this.clock();
    this.lr = info.config.learning_rate;
    this.stepsPerEpoch = epochSteps(info.config, info.trainImages);
  }

  // ---- the run's lifecycle --------------------------------------------------------------------

  /** Names the run as whoever started it knows it (a coordinator knows only its config). */
  describe(names: Partial<Pick<RunInfo, 'name' | 'path' | 'engine'>>): void {
    Object.assign(this.info, names);
    this.version++;
  }

  /**
   * Shows counts kept by whoever feeds the monitor instead of counting them here: a coordinator
   * counts what it refused and evicted once, for its own read-outs and for /status and /metrics.
   */
  countsFrom(kept: KeptCounts): void {
    this.kept = kept;
  }

  /** Refusals, evictions and traffic so far (see countsFrom). */
  get keptCounts(): Readonly<KeptCounts> {
    return this.kept;
  }

  setState(state: RunState, reason: string | null): void {
    if (state === this.state && reason === this.reason) return;
    this.state = state;
    this.reason = reason;
    // A pause must not count as slowness once steps resume.
    if (state !== 'training') this.rate.reset();
    this.event('state', reason ? `${state}: ${reason}` : state);
  }

  /** Where the run starts (a resumed one part-way): the monitor follows that state's history from now on. */
  resumeAt(state: TrainState): void {
    this.epoch = state.epoch;
    this.step = state.step;
    this.lr = state.lr;
    this.history = state.history;
  }

  finished(outputs: Record<string, string>, confusion: number[][] | null): void {
    this.outputs = outputs;
    this.confusion = confusion;
    this.setState('finished', 'all epochs done');
  }

  /** A page served beside the dashboard (a path on its server), shown in the finished view. */
  link(label: string, href: string): void {
    this.links.push({ label, href });
  }

  failed(error: unknown): void {
    const e = error as { code?: string; message?: string };
    this.setState('failed', `${e.code ? `[${e.code}] ` : ''}${e.message ?? String(error)}`);
  }

  // ---- the training loop -----------------------------------------------------------------------

  /**
   * Hooks that feed the monitor, then call `inner`'s. `yieldMs` > 0: every that many milliseconds
   * a step hands the event loop a turn, so that a server in this thread (the dashboard of an
   * in-process run, whose loop is otherwise synchronous within an epoch) can answer. A turn costs
   * a few microseconds; at 100 ms that is far below the noise of a step.
   */
  hooks(inner: EngineHooks = {}, options: { yieldMs?: number } = {}): EngineHooks {
    const yieldMs = options.yieldMs ?? 0;
    let lastYield = this.clock();
    return {
      onStep: (info, state) => {
        this.onStep(info, state);
        const r = inner.onStep?.(info, state);
        if (yieldMs > 0 && this.lastStepAt - lastYield >= yieldMs) {
          lastYield = this.lastStepAt;
          const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
          return r ? r.then(turn) : turn();
        }
        return r;
      },
      onEpoch: (m, state) => {
        this.onEpoch(m, state);
        return inner.onEpoch?.(m, state);
      },
    };
  }

  onStep(info: StepInfo, state: TrainState): void {
    const t = this.clock();
    // An epoch's first step would include the previous epoch's evaluation: not a step time.
    if (info.step > 1 && this.lastStepAt <= t) this.stepTimes.observe((t - this.lastStepAt) / 1000);
    this.lastStepAt = t;
    this.counters.steps++;
    this.epoch = info.epoch;
    this.step = info.step;
    if (this.state !== 'training') this.setState('training', null);
    if (this.trainLossEnded) {
      this.trainLoss = [];
      this.trainLossEnded = false;
    }
    if (info.step === info.steps) this.endOfStepsAt = t;
    if (t - this.lastSample >= this.sampleMs || info.step === info.steps) {
      this.lastSample = t;
      this.rate.sample(t, this.counters.steps);
      this.version++;
    }
    // The curve is sampled by steps, not by time: an epoch of a tenth of a second draws its
    // curve as it goes as well as one of a minute, from its first step on.
    const every = Math.ceil(info.steps / this.trainLossPoints);
    if (state.epochCount > 0 && (info.step === 1 || info.step % every === 0 || info.step === info.steps)) {
      this.trainLoss.push([info.step, state.epochLoss / DELTA_SCALE / state.epochCount]);
      this.version++;
    }
  }

  onEpoch(m: EpochMetrics, state: TrainState): void {
    const t = this.clock();
    if (Number.isFinite(this.endOfStepsAt)) this.evalSeconds = (t - this.endOfStepsAt) / 1000;
    // The loop has put `m` in the state's history already.
    this.history = state.history;
    // The finished epoch's curve stays up until the next epoch's first step (or for good, at the end).
    this.trainLossEnded = true;
    this.epoch = state.epoch;
    this.step = 0;
    this.event('epoch', `epoch ${m.epoch}/${this.info.config.num_epoches}: test loss ${m.testLoss.toFixed(4)}, accuracy ${(m.testAccuracy * 100).toFixed(2)} %`);
    if (state.lr < m.lr) {
      this.counters.decays++;
      this.event('decay', `learning rate decayed from ${m.lr} to ${state.lr} (accuracy gained < 0.001)`);
    }
    this.lr = state.lr;
  }

  checkpointWritten(path: string, epoch: number, step: number): void {
    this.counters.checkpoints++;
    this.checkpointInfo = { path, epoch, step, at: this.now() };
    // A checkpoint every few thousand steps is worth a line; the ones at epoch ends go with the epoch.
    this.event('checkpoint', `checkpoint ${step === 0 ? `after epoch ${epoch}` : `at epoch ${epoch + 1}, step ${step}`}: ${path}`);
  }

  // ---- the workers -----------------------------------------------------------------------------

  /** A record for a new connection; the pool updates its traffic fields as frames pass. */
  connection(id: number, address: string): WorkerRecord {
    return new WorkerRecord(id, address, this.now());
  }

  joined(record: WorkerRecord, label: string): void {
    record.label = inert(label, LABEL_MAX);
    record.connected = true;
    record.joinedAt = this.now();
    this.workers.set(record.id, record);
    this.counters.joins++;
    this.event('join', `worker ${record.id} (${record.label || record.address}) joined from ${record.address}`);
  }

  /**
   * A connection ended. `evicted`: the coordinator closed it for a fault (deadline, bad result,
   * heartbeat, …). A connection that never completed its handshake is no worker's: its refusal,
   * if it was one, comes as refused().
   */
  left(record: WorkerRecord, reason: string | undefined, detail: string, evicted: boolean): void {
    if (!this.workers.has(record.id)) return;
    const code = reason ?? CONNECTION_LOST;
    const why = inert(detail);
    this.workers.delete(record.id);
    record.connected = false;
    record.leftAt = this.now();
    record.reason = code;
    this.gone.push(record);
    if (this.gone.length > this.goneKept) this.gone.shift();
    bump(this.counters.leaves, code);
    this.event(evicted ? 'evict' : 'leave', `worker ${record.id} (${record.label || record.address}) ${evicted ? 'evicted' : 'left'}: [${code}] ${why}`, code);
  }

  /** The coordinator closed every connection (the run ended): the workers are released, not lost. */
  releasedAll(reason: string): void {
    for (const w of this.workers.values()) {
      w.connected = false;
      w.leftAt = this.now();
      w.reason = reason;
      this.gone.push(w);
    }
    this.gone.splice(0, Math.max(0, this.gone.length - this.goneKept));
    if (this.workers.size > 0) this.event('leave', `${this.workers.size} worker${this.workers.size === 1 ? '' : 's'} released: [${reason}]`, reason);
    this.workers.clear();
  }

  /** A connection refused before it joined (counted by whoever refused it); `shown`: in the feed. */
  refused(address: string, reason: string, detail: string, shown: boolean): void {
    if (shown) this.event('refuse', `refused ${address}: [${reason}] ${inert(detail)}`, reason);
    else this.version++;
  }

  reassigned(reason: string | undefined): void {
    const code = reason ?? CONNECTION_LOST;
    bump(this.counters.reassignments, code);
    this.event('reassign', `a slice was reassigned: its worker was lost [${code}]`, code);
  }

  backup(): void {
    this.counters.backups++;
    this.event('backup', 'a slow slice was also sent to a backup worker');
  }

  // ---- reading ---------------------------------------------------------------------------------

  /** Samples each worker's speed when a period has passed; called by readers and by a timer. */
  sampleWorkers(): void {
    const t = this.clock();
    const seconds = (t - this.lastWorkerSample) / 1000;
    if (seconds * 1000 < this.sampleMs) return;
    this.lastWorkerSample = t;
    for (const w of this.workers.values()) w.sampleSpeed(seconds);
    this.version++;
  }

  /** The run's steps per second lately, or null while unknown. */
  stepsPerSecond(): number | null {
    return this.state === 'training' ? this.rate.rate() : null;
  }

  etaSeconds(): { epoch: number | null; run: number | null } {
    if (this.state !== 'training') return { epoch: null, run: null };
    const c = this.info.config;
    return eta(remaining(this.epoch, this.step, this.stepsPerEpoch, c.num_epoches), this.rate.rate(), this.evalSeconds);
  }

  epochsDone(): number {
    return this.history.length;
  }

  learningRate(): number {
    return this.lr;
  }

  lastEpoch(): EpochMetrics | undefined {
    return this.history.at(-1);
  }

  connectedWorkers(): number {
    return this.workers.size;
  }

  status(): Status {
    this.sampleWorkers();
    const c = this.info.config;
    const e = this.etaSeconds();
    const finished = this.state === 'finished';
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(c)) if (typeof v === 'number') values[k] = v;
    return {
      state: this.state,
      reason: this.reason,
      run: {
        config: { name: this.info.name, path: this.info.path, values },
        dataset: this.info.dataset,
        kernel: this.info.kernel,
        seed: c.seed,
        engine: this.info.engine,
        startedAt: this.startedAt,
      },
      progress: {
        epoch: finished ? c.num_epoches : Math.min(c.num_epoches, this.epoch + 1),
        epochs: c.num_epoches,
        step: finished ? this.stepsPerEpoch : this.step,
        steps: this.stepsPerEpoch,
        stepsPerSecond: this.stepsPerSecond(),
        etaEpochSeconds: e.epoch,
        etaRunSeconds: e.run,
      },
      lr: this.lr,
      epochs: this.history.map((m) => ({ ...m })),
      trainLoss: this.trainLoss.slice(),
      workers: [...this.workers.values(), ...this.gone].map((w) => {
        const [median, p95] = w.times.quantiles(0.5, 0.95);
        return {
          id: w.id,
          label: w.label,
          address: w.address,
          transport: w.transport,
          engine: w.engine,
          state: w.connected ? ('connected' as const) : ('gone' as const),
          slices: w.slices,
          sliceMedianMs: median ?? null,
          sliceP95Ms: p95 ?? null,
          samplesPerSecond: w.samplesPerSecond,
          bytesIn: w.bytesIn,
          bytesOut: w.bytesOut,
          lastHeard: w.lastHeard,
          joinedAt: w.joinedAt,
          leftAt: w.leftAt,
          reason: w.reason,
          speed: w.speed.slice(),
        };
      }),
      counters: {
        ...this.counters,
        leaves: { ...this.counters.leaves },
        reassignments: { ...this.counters.reassignments },
        evictions: counted(this.kept.evictions),
        refused: counted(this.kept.refused),
      },
      traffic: { ...this.kept.traffic },
      checkpoint: this.checkpointInfo,
      outputs: this.outputs,
      links: this.links.map((l) => ({ ...l })),
      confusion: this.confusion,
      lastEventId: this.events.lastId,
    };
  }

  eventsAfter(id: number): RunEvent[] {
    return this.events.after(id);
  }

  private event(kind: EventKind, text: string, reason: string | null = null): void {
    this.events.add(kind, text, reason, this.now());
    this.version++;
  }
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** A copy of `counts` with only the reasons counted. */
function counted(counts: ReasonCounts): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, n] of Object.entries(counts)) if (n !== undefined) out[reason] = n;
  return out;
}
