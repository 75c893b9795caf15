import { addRows, addSums, clearRows, emptyRowSet, emptySums, MnistLrError, type BatchSums, type ExactSums, type GradientSource, type Weights } from '@mnist-lr/core';
import type { Reason, ResultMessage, TaskMessage } from '@mnist-lr/core/protocol';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { SliceTimer } from './deadlines.js';

/** A worker as the scheduler sees it (the pool's Peer, or an in-memory one in tests). */
export interface SchedulerPeer {
  /** Weights version this worker holds (-1: none yet). */
  version: number;
  /** Tasks sent and not yet answered. */
  readonly pending: Set<number>;
  send(m: TaskMessage): void;
}

/** The workers a scheduler may use, and how it gets rid of one (the pool). */
export interface SchedulerWorkers<P extends SchedulerPeer> {
  /** Workers that completed the handshake and are still connected. */
  ready(): P[];
  /** Closes a worker's connection with a coded reason; the scheduler hears of it by onLost. */
  drop(peer: P, reason: Reason, detail?: string): void;
}

/** A contiguous part of a batch, and the workers computing it (more than one with backups). */
interface Slice<P> {
  indices: Uint32Array;
  done: boolean;
  /** Task id → the worker it was sent to, for every assignment still in flight. */
  assignments: Map<number, P>;
  /** Deadline timer of each assignment in flight. */
  timers: Map<number, TimerHandle>;
  /** When each assignment was sent (clock.now()). */
  sentAt: Map<number, number>;
  backupTimer: TimerHandle | undefined;
}

export interface SchedulerOptions<P = unknown> {
  /** Upper bound of a slice's deadline, milliseconds (--step-timeout). Default 10000. */
  stepTimeoutMs: number;
  /** Lower bound of the adaptive deadline, milliseconds. Default 1000. */
  minStepTimeoutMs: number;
  /** The adaptive deadline is this many times the median slice time. Default 20. */
  deadlineFactor: number;
  /**
   * Backup workers (Chen et al. 2016, arXiv:1604.00981): a slice still unanswered after
   * `backupFactor` × the median slice time is also sent to an idle worker, and the first valid
   * answer wins. The sums are exact, so both answers are the same bits: this changes no result.
   * 0 turns backups off. Default 0.
   */
  backupFactor: number;
  /** With no worker connected, wait this long for one before failing with NO_WORKERS. Default 60000 ms. */
  workerWaitMs: number;
  log: (line: string) => void;
  /** Time and timers. Default: the system clock. */
  clock?: Clock;
  /** Told of answered slices, reassignments (with the lost worker's reason) and backups: the run's monitor. */
  observer?: SchedulerObserver<P>;
}

/** What a scheduler tells the run's monitor. */
export interface SchedulerObserver<P> {
  sliceDone(peer: P, ms: number): void;
  reassigned(reason: Reason | undefined): void;
  backup(): void;
  /** A slice has no worker to go to: the run waits for one. */
  orphaned(): void;
}

/** Counters of what happened, for logs and tests. */
export interface SchedulerStats {
  /** Slices given to another worker after their worker failed. */
  reassigned: number;
  /** Slices also sent to a backup worker. */
  backups: number;
  /** Answers that arrived after another worker had answered the same slice. */
  lateAnswers: number;
}

/**
 * Computes a batch's exact sums on the connected workers (DESIGN.md §6): the batch is split into
 * contiguous slices, one per live worker; each returns its slice's exact sums, which are added in
 * whatever order they arrive. Because the sums are exact (core's math/exact.ts) a slice may be
 * recomputed by any worker after a failure, or computed twice, and the step's result is the same
 * to the bit.
 */
export class SliceScheduler<P extends SchedulerPeer> implements GradientSource {
  private readonly total: ExactSums = emptySums();
  /** The rows the step's results listed; with plain SGD only these change (core's applyUpdate). */
  private readonly rows = emptyRowSet();
  /** A result of this step came with the full gW: any row may have a gradient. */
  private anyRow = false;
  private slices: Slice<P>[] = [];
  private remaining = 0;
  private weights: Weights | null = null;
  private version = -1;
  private nextTask = 1;
  /** Every task in flight, including backups whose slice is already done. */
  private readonly byTask = new Map<number, Slice<P>>();
  private finish: ((r: BatchSums) => void) | null = null;
  private fail: ((e: Error) => void) | null = null;
  private orphanTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly timer: SliceTimer;
  readonly stats: SchedulerStats = { reassigned: 0, backups: 0, lateAnswers: 0 };
  /** 0-based epoch of the steps being computed; told to workers with each task. */
  epoch = 0;

  constructor(
    private readonly pool: SchedulerWorkers<P>,
    private readonly options: SchedulerOptions<P>,
  ) {
    this.clock = options.clock ?? systemClock;
    this.timer = new SliceTimer({ minMs: options.minStepTimeoutMs, maxMs: options.stepTimeoutMs, factor: options.deadlineFactor, window: 64 });
  }

  compute(batch: Uint32Array, weights: Weights, version: number): Promise<BatchSums> {
    const t = this.total;
    t.gW.fill(0);
    t.gb.fill(0);
    t.loss = 0;
    t.correct = 0;
    t.count = 0;
    clearRows(this.rows);
    this.anyRow = false;
    this.weights = weights;
    this.version = version;
    const peers = this.pool.ready();
    const parts = Math.max(1, Math.min(peers.length, batch.length));
    this.slices = [];
    for (let s = 0; s < parts; s++) {
      const from = Math.floor((s * batch.length) / parts);
      const to = Math.floor(((s + 1) * batch.length) / parts);
      this.slices.push({ indices: batch.subarray(from, to), done: false, assignments: new Map(), timers: new Map(), sentAt: new Map(), backupTimer: undefined });
    }
    this.remaining = this.slices.length;
    return new Promise<BatchSums>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
      this.slices.forEach((slice, s) => (peers[s] ? this.assign(slice, peers[s]) : this.orphaned()));
    });
  }

  /**
   * A worker completed its handshake: give it any slice waiting for a worker. The wait for workers
   * is not over until a slice is answered: a worker that joins and fails at once, again and again,
   * must not hold the run forever.
   */
  onReady(peer: P): void {
    for (const slice of this.slices) {
      if (!slice.done && slice.assignments.size === 0) this.assign(slice, peer);
    }
  }

  /** A worker is gone: each unfinished slice it held, and no one else holds, goes to another. */
  onLost(peer: P, reason: Reason | undefined): void {
    for (const task of peer.pending) {
      const slice = this.byTask.get(task);
      this.byTask.delete(task);
      if (!slice) continue;
      this.unassign(slice, task);
      if (!slice.done && slice.assignments.size === 0) this.reassign(slice, reason);
    }
    peer.pending.clear();
  }

  onResult(peer: P, m: ResultMessage): void {
    const slice = this.byTask.get(m.task);
    if (!slice || !peer.pending.has(m.task)) {
      this.pool.drop(peer, 'UNEXPECTED_MESSAGE', `result for task ${m.task}, which this worker was not given`);
      return;
    }
    peer.pending.delete(m.task);
    this.byTask.delete(m.task);
    const sentAt = slice.sentAt.get(m.task)!;
    this.unassign(slice, m.task);
    if (m.sums.count !== slice.indices.length) {
      this.pool.drop(peer, 'BAD_RESULT', `sums over ${m.sums.count} samples for a slice of ${slice.indices.length}`);
      if (!slice.done && slice.assignments.size === 0) this.reassign(slice, 'BAD_RESULT');
      return;
    }
    if (slice.done) {
      this.stats.lateAnswers++;
      return;
    }
    const ms = this.clock.now() - sentAt;
    this.timer.record(ms);
    this.options.observer?.sliceDone(peer, ms);
    slice.done = true;
    this.clock.clearTimeout(slice.backupTimer);
    // Progress: a wait for workers (see orphaned()) starts again from now if it is needed again.
    this.clock.clearTimeout(this.orphanTimer);
    this.orphanTimer = undefined;
    // Other assignments of this slice (a straggler and its backup) keep their deadlines: their
    // answers are ignored, but a worker that misses its deadline is still dropped as stalled.
    addSums(this.total, m.sums, m.rows);
    if (m.rows === null) this.anyRow = true;
    else addRows(this.rows, m.rows);
    if (--this.remaining === 0) {
      const finish = this.finish!;
      this.finish = null;
      this.fail = null;
      finish({ sums: this.total, rows: this.anyRow ? null : this.rows });
    }
  }

  /** Fails the step in progress (shutdown). */
  abort(error: Error): void {
    this.clock.clearTimeout(this.orphanTimer);
    this.orphanTimer = undefined;
    for (const s of this.slices) {
      for (const timer of s.timers.values()) this.clock.clearTimeout(timer);
      this.clock.clearTimeout(s.backupTimer);
    }
    const fail = this.fail;
    this.finish = null;
    this.fail = null;
    fail?.(error);
  }

  /** The deadline a slice sent now gets, milliseconds. */
  currentDeadline(): number {
    return this.timer.deadline();
  }

  private assign(slice: Slice<P>, peer: P): void {
    const task = this.nextTask++;
    this.byTask.set(task, slice);
    slice.assignments.set(task, peer);
    slice.sentAt.set(task, this.clock.now());
    peer.pending.add(task);
    const deadline = this.timer.deadline();
    slice.timers.set(task, this.clock.setTimeout(() => this.pool.drop(peer, 'STEP_DEADLINE', `no answer to a slice within ${deadline} ms`), deadline));
    if (this.options.backupFactor > 0 && slice.backupTimer === undefined) {
      const typical = this.timer.typical();
      if (typical !== undefined) slice.backupTimer = this.clock.setTimeout(() => this.backup(slice), Math.max(1, this.options.backupFactor * typical));
    }
    // The weights go with the task when this worker does not hold them yet.
    const weights = peer.version === this.version ? null : this.weights!;
    peer.version = this.version;
    peer.send({ type: 'task', task, version: this.version, indices: slice.indices, weights, epoch: this.epoch });
  }

  private unassign(slice: Slice<P>, task: number): void {
    this.clock.clearTimeout(slice.timers.get(task));
    slice.timers.delete(task);
    slice.assignments.delete(task);
    slice.sentAt.delete(task);
  }

  /** A straggling slice is also given to the least busy worker that does not hold it yet. */
  private backup(slice: Slice<P>): void {
    if (slice.done) return;
    const holders = new Set(slice.assignments.values());
    const spare = this.leastBusy(holders);
    if (!spare) return;
    this.stats.backups++;
    this.options.observer?.backup();
    this.assign(slice, spare);
  }

  private reassign(slice: Slice<P>, reason: Reason | undefined): void {
    this.stats.reassigned++;
    this.options.observer?.reassigned(reason);
    const target = this.leastBusy(new Set());
    if (target) this.assign(slice, target);
    else this.orphaned();
  }

  private leastBusy(exclude: Set<P>): P | undefined {
    let best: P | undefined;
    for (const p of this.pool.ready()) {
      if (exclude.has(p)) continue;
      if (!best || p.pending.size < best.pending.size) best = p;
    }
    return best;
  }

  /** A slice has no worker: wait a bounded time for one to join. */
  private orphaned(): void {
    if (this.orphanTimer) return;
    this.options.observer?.orphaned();
    this.options.log(`no worker connected; waiting up to ${Math.round(this.options.workerWaitMs / 1000)} s for one to join`);
    this.orphanTimer = this.clock.setTimeout(() => {
      this.orphanTimer = undefined;
      this.abort(new MnistLrError('NO_WORKERS', `no worker joined within ${Math.round(this.options.workerWaitMs / 1000)} s; start workers with \`mnist-lr worker --connect <url>\` or raise --worker-wait`));
    }, this.options.workerWaitMs);
  }
}
