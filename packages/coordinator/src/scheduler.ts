import { addAllRows, addRows, clearRows, emptyRowSet, emptySums, jsRowMover, MnistLrError, type BatchSums, type ExactSums, type GradientSource, type RowMover, type RowSet, type Weights } from '@mnist-lr/core/engine';
import type { Reason, ResultMessage, TaskMessage } from '@mnist-lr/core/protocol';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { SliceTimer } from './deadlines.js';
import { SliceSizer } from './slice-sizer.js';
import { SplitPolicy } from './split-policy.js';
import { keepAnswer, localAnswer, sameAnswer, secureRandom, type Answer, type VerifyStats } from './verify.js';

/** Steps that end within compute() give the event loop a turn at least this often, milliseconds. */
const YIELD_MS = 20;
/** The least time this thread waits for a shared-memory worker's slice before computing it too, milliseconds. */
const LATE_MIN_MS = 0.05;

/** A worker as the scheduler sees it (the pool's Peer, or an in-memory one in tests). */
export interface SchedulerPeer {
  /** Weights version this worker holds (-1: none yet). */
  version: number;
  /** Tasks sent and not yet answered. */
  readonly pending: Set<number>;
  /**
   * True for a worker that computes through shared memory (a thread of this process): its answer
   * is looked for from this thread, so a step can tell at once when it is late.
   */
  readonly shared?: boolean;
  send(m: TaskMessage): void;
}

/** The workers a scheduler may use, and how it gets rid of one (the pool). */
export interface SchedulerWorkers<P extends SchedulerPeer> {
  /** Workers that completed the handshake and are still connected. */
  ready(): P[];
  /** Closes a worker's connection with a coded reason; the scheduler hears of it by onLost. */
  drop(peer: P, reason: Reason, detail?: string): void;
  /** Refuses this worker for the rest of the run (it was caught returning wrong sums). */
  ban?(peer: P): void;
  /**
   * Puts the weights of a new version where workers of a shared-memory plane take them;
   * `changed` lists the rows that differ from version `since` (null: unknown).
   */
  publish?(weights: Weights, version: number, changed: Uint16Array | null, changedCount: number, since: number): void;
  /** Waits for answers from this thread, polling, until `done()` or `ms` passed (shared-memory workers). */
  spin?(done: () => boolean, ms: number): void;
  /** Takes the answers that are there, without waiting (shared-memory workers). */
  poll?(): void;
  /** Keeps looking for answers from the event loop while any are awaited (shared-memory workers). */
  watch?(): void;
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
  /** Chosen for verification: done only when two computations by different parties agree. */
  verify: boolean;
  /** Answers kept so far (verified slices: until two agree). */
  answers: Answer<P>[];
  /** The answer the step uses, once done (kept only while verifying). */
  accepted: Answer<P> | undefined;
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
  /**
   * The fraction of slices, chosen at random, that are also computed by a second worker (or by
   * the coordinator itself when no other worker is there) and compared bit for bit (--verify).
   * 1: every slice, so no single worker can change the weights. 0 (default): none.
   */
  verify?: number;
  /**
   * A computation of a slice in this thread (its result is read at once): second opinions and
   * tie-breaks (verify), and the slices this thread computes itself (computeShare). Required
   * when `verify` > 0 or `computeShare`.
   */
  local?: (indices: Uint32Array, weights: Weights, version: number) => BatchSums;
  /**
   * With computeShare and without verify: this thread's own kernel, whose sums and row set
   * become each step's total. Its slice is computed first, every other answer is added into it
   * (rows moved by `mover`), and the optimiser then updates the weights from it where they live
   * (core's applyUpdate on resident weights). Slices this thread takes over go to `local`.
   */
  accumulator?: (indices: Uint32Array, weights: Weights, version: number) => BatchSums;
  /** How answers' rows are added into the total (the own kernel's module where it can). Default: JS. */
  mover?: RowMover;
  /**
   * With computeShare and without verify: whether this thread computes a step alone when that
   * has measured faster than sharing it (SplitPolicy). Default true; needs `accumulator`, since a
   * step alone is the accumulator's (ignored without one).
   */
  adaptive?: boolean;
  /**
   * The coordinator's own thread is a party of every step: it computes one slice itself, right
   * after handing the others out, and takes over any slice a worker loses. Default false.
   */
  computeShare?: boolean;
  /**
   * Whether a step changes only the rows of W its sums touch (core's updatesOnlyRows): then the
   * weights published for shared-memory workers carry only those rows.
   */
  rowsOnly?: boolean;
  /** Uniform in [0, 1), for choosing slices to verify. Default: crypto-strong, so no worker can predict it. */
  random?: () => number;
  /** Told of answered slices, reassignments (with the lost worker's reason) and backups: the run's monitor. */
  observer?: SchedulerObserver<P>;
}

/** What a scheduler tells the run's monitor. */
export interface SchedulerObserver<P> {
  /** `peer` answered a slice of `samples` samples, `ms` after it was sent. */
  sliceDone(peer: P, ms: number, samples: number): void;
  reassigned(reason: Reason | undefined): void;
  backup(): void;
  /** A slice has no worker to go to: the run waits for one. */
  orphaned(): void;
}

/** Counters of what happened, for logs and tests. */
export interface SchedulerStats {
  /** Slices given to another worker after their worker failed. */
  reassigned: number;
  /**
   * Slices also given to a second party while their first was slow: sent to a backup worker
   * (backupFactor), or taken over by this thread when a shared-memory worker is late (takeOverLate).
   */
  backups: number;
  /** Answers that arrived after another worker had answered the same slice. */
  lateAnswers: number;
  /** Verification (--verify); all zero without it. */
  verify: VerifyStats;
}

/**
 * Computes a batch's exact sums on the connected workers (DESIGN.md §6): the batch is split into
 * contiguous slices, one per idle worker (every ready worker when all are busy and this thread
 * takes no share), plus the last one for this thread with computeShare, each sized by how fast
 * its party has measured (SliceSizer). Each returns its slice's exact sums, which are added in
 * whatever order they arrive. Because the sums are exact (core's math/exact.ts) a slice may be
 * recomputed by any worker after a failure, or computed twice, and the step's result is the same
 * to the bit.
 */
export class SliceScheduler<P extends SchedulerPeer> implements GradientSource {
  /** The step's total when no accumulator holds it (see SchedulerOptions.accumulator). */
  private readonly ownSums: ExactSums = emptySums();
  private readonly ownRows = emptyRowSet();
  /** The step's sums, and the rows they touch (with plain SGD only these change: core's applyUpdate). */
  private sums: ExactSums = this.ownSums;
  private rows: RowSet = this.ownRows;
  /** Whether this step's slice of this thread went to the accumulator yet. */
  private accumulated = false;
  private readonly mover: RowMover;
  private slices: Slice<P>[] = [];
  private remaining = 0;
  private weights: Weights | null = null;
  private version = -1;
  private nextTask = 1;
  /** Every task in flight, including backups whose slice is already done. */
  private readonly byTask = new Map<number, Slice<P>>();
  private finish: ((r: BatchSums) => void) | null = null;
  private fail: ((e: Error) => void) | null = null;
  /** True while compute() runs: the step may end before it returns, and then returns its result. */
  private sync = false;
  private syncResult: BatchSums | null = null;
  private syncError: Error | null = null;
  /** clock.now() of the last time the event loop was known to turn (see yieldDue). */
  private turnAt = 0;
  /**
   * Whether the step's total lives in the accumulator (computeShare without verify). Fixed at
   * construction: it reads only the options and verifyFraction, neither of which changes after.
   */
  private readonly accumulating: boolean;
  /**
   * Shared or alone, whichever measures faster; null unless accumulating, since a step alone is
   * one the accumulator computes (computeAlone): a policy without one could choose 'alone' for
   * nothing, and would time shared steps as if they were alone.
   */
  private readonly policy: SplitPolicy | null;
  /** How many samples each party gets, from how fast it has been. */
  private readonly sizer = new SliceSizer<P>();
  /** Whether this step's time goes to the policy, and when it started. */
  private timed = false;
  private stepStart = 0;
  private orphanTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly timer: SliceTimer;
  readonly stats: SchedulerStats = { reassigned: 0, backups: 0, lateAnswers: 0, verify: { verified: 0, byCoordinator: 0, mismatches: 0, recomputed: 0 } };
  /** The fraction of slices verified; > 0 keeps every answer until the step ends. */
  private readonly verifyFraction: number;
  private readonly random: () => number;
  /** 0-based epoch of the steps being computed; told to workers with each task. */
  epoch = 0;

  constructor(
    private readonly pool: SchedulerWorkers<P>,
    private readonly options: SchedulerOptions<P>,
  ) {
    this.clock = options.clock ?? systemClock;
    this.timer = new SliceTimer({ minMs: options.minStepTimeoutMs, maxMs: options.stepTimeoutMs, factor: options.deadlineFactor, window: 64 });
    this.verifyFraction = options.verify ?? 0;
    if ((this.verifyFraction > 0 || options.computeShare) && !options.local) throw new RangeError('SliceScheduler: verify and computeShare need the coordinator\'s own computation (options.local)');
    this.random = options.random ?? secureRandom;
    this.mover = options.mover ?? jsRowMover;
    this.accumulating = options.accumulator !== undefined && options.computeShare === true && this.verifyFraction === 0;
    this.policy = this.accumulating && options.adaptive !== false ? new SplitPolicy() : null;
  }

  /**
   * The exact sums of `batch`, split over the ready workers (and this thread with computeShare).
   * Returns them directly when the step ends before this returns (this thread's slice and
   * shared-memory workers answering within the spin), else a promise.
   */
  compute(batch: Uint32Array, weights: Weights, version: number): BatchSums | Promise<BatchSums> {
    // A worker still busy with an earlier task (late, or stalled: a pause for garbage collection,
    // a core taken by another process) sits this step out rather than hold it up; late answers
    // that came meanwhile are collected first.
    this.pool.poll?.();
    const ready = this.pool.ready();
    const idle = ready.filter((p) => p.pending.size === 0);
    // With a share of its own, this thread may be faster alone (see SplitPolicy).
    this.timed = this.policy !== null && idle.length > 0;
    this.stepStart = this.clock.now();
    if (this.timed && !this.policy!.share()) return this.computeAlone(batch, weights, version);
    // The rows the previous step's update changed, for workers that hold that version.
    const since = this.version;
    const changed = this.options.rowsOnly && since >= 0 && version === since + 1 ? this.rows.list : null;
    this.pool.publish?.(weights, version, changed, this.rows.size, since);
    if (this.accumulating) {
      // The total is the accumulator's, once this thread's slice is computed (below).
      this.accumulated = false;
    } else {
      const t = this.ownSums;
      t.gW.fill(0);
      t.gb.fill(0);
      t.loss = 0;
      t.correct = 0;
      t.count = 0;
      clearRows(this.ownRows);
      this.sums = t;
      this.rows = this.ownRows;
    }
    this.weights = weights;
    this.version = version;
    // When every worker is busy and this thread computes no share, they get the slices anyway
    // (queued behind what they are doing) rather than none at all.
    const peers = idle.length > 0 || this.options.computeShare ? idle : ready;
    const own = this.options.computeShare ? 1 : 0;
    const parts = Math.max(1, Math.min(peers.length + own, batch.length));
    // With computeShare this thread takes the last slice; workers get the others.
    const toWorkers = own === 1 ? parts - 1 : parts;
    this.slices = [];
    // In proportion to each party's speed (SliceSizer): workers first, this thread last.
    const parties: Array<P | null> = peers.slice(0, toWorkers);
    if (own === 1) parties.push(null);
    const bounds = parties.length === parts ? this.sizer.bounds(parties, batch.length) : [0, batch.length];
    for (let s = 0; s < parts; s++) {
      const from = bounds[s]!;
      const to = bounds[s + 1]!;
      const verify = s < toWorkers && (this.verifyFraction >= 1 || (this.verifyFraction > 0 && this.random() < this.verifyFraction));
      this.slices.push({ indices: batch.subarray(from, to), done: false, assignments: new Map(), timers: new Map(), sentAt: new Map(), backupTimer: undefined, verify, answers: [], accepted: undefined });
    }
    this.remaining = this.slices.length;
    this.sync = true;
    this.syncResult = null;
    this.syncError = null;
    try {
      // Workers first, so that they compute while this thread computes its own slice.
      for (let s = 0; s < toWorkers; s++) {
        if (peers[s]) this.assign(this.slices[s]!, peers[s]!);
        else this.orphaned();
      }
      // The second computation of each verified slice, once every slice has its first worker.
      for (const slice of this.slices) if (slice.verify && slice.assignments.size > 0) this.refill(slice, false);
      if (own === 1) {
        const started = this.clock.now();
        this.computeOwn(this.slices[parts - 1]!);
        this.takeOverLate(this.clock.now() - started);
      }
      if (this.remaining > 0) this.pool.spin?.(() => this.remaining === 0, this.spinMs());
    } finally {
      this.sync = false;
    }
    if (this.syncError) return Promise.reject(this.syncError);
    if (this.syncResult) {
      const result = this.syncResult;
      this.syncResult = null;
      return this.yieldDue() ? this.turn().then(() => result) : result;
    }
    return new Promise<BatchSums>((resolve, reject) => {
      this.finish = (r) => {
        this.turnAt = this.clock.now();
        resolve(r);
      };
      this.fail = reject;
      this.pool.watch?.();
    });
  }

  /**
   * Slices of shared-memory workers still unanswered a while after this thread computed its own
   * (half its time again): this thread computes them too, and the first answer counts (the sums
   * are exact, so both are the same bits; the other is a late answer). A step then waits for no
   * worker held up by a garbage-collection pause or a core taken by another process, which on
   * two cores would otherwise cost milliseconds. Only without verification: a verified slice
   * needs its two answers anyway.
   */
  private takeOverLate(ownMs: number): void {
    if (this.remaining === 0 || this.verifyFraction > 0 || !this.slices.some((s) => !s.done && this.watchable(s))) return;
    this.pool.spin?.(() => this.remaining === 0, Math.max(LATE_MIN_MS, 0.5 * ownMs));
    for (const slice of this.slices) {
      if (slice.done || !this.watchable(slice)) continue;
      this.stats.backups++;
      this.options.observer?.backup();
      this.computeOwn(slice);
    }
  }

  /** Whether every computation of `slice` in flight is a shared-memory worker's. */
  private watchable(slice: Slice<P>): boolean {
    if (slice.assignments.size === 0) return false;
    for (const p of slice.assignments.values()) if (!p.shared) return false;
    return true;
  }

  /**
   * A step this thread computes alone, as an in-process trainer does (SplitPolicy found it
   * faster): no slices, no tasks, and nothing published for workers (the next shared step
   * publishes all of W, since the board then holds an older version).
   */
  private computeAlone(batch: Uint32Array, weights: Weights, version: number): BatchSums | Promise<BatchSums> {
    this.slices = [];
    this.remaining = 0;
    this.weights = weights;
    this.version = version;
    this.accumulate(batch);
    this.policy!.record(this.clock.now() - this.stepStart);
    const result = { sums: this.sums, rows: this.rows };
    return this.yieldDue() ? this.turn().then(() => result) : result;
  }

  /**
   * Computes `indices` with the accumulator at the step's weights: its sums and rows become the
   * step's total, which every other answer is then added into. One place for both uses (a step
   * alone, this thread's slice of a shared step), so they cannot drift apart.
   */
  private accumulate(indices: Uint32Array): void {
    const out = this.options.accumulator!(indices, this.weights!, this.version);
    if (out.rows === null) throw new Error('SliceScheduler: the accumulator must report its rows');
    this.sums = out.sums;
    this.rows = out.rows;
    this.accumulated = true;
  }

  /**
   * How long compute() polls shared-memory workers from this thread before it leaves the wait to
   * the event loop: a few typical slices (a slice of this thread's size takes about as long).
   */
  private spinMs(): number {
    const typical = this.timer.typical();
    return typical === undefined ? 5 : Math.min(50, 1 + 2 * typical);
  }

  /**
   * Whether the event loop is due a turn: steps that end within compute() never give it one, and
   * sockets, timers and signals must not wait long for it.
   */
  private yieldDue(): boolean {
    return this.clock.now() - this.turnAt >= YIELD_MS;
  }

  private turn(): Promise<void> {
    return new Promise((resolve) => {
      setImmediate(() => {
        this.turnAt = this.clock.now();
        resolve();
      });
    });
  }

  /**
   * This thread computes a slice (computeShare): its slice of every step, or one a worker lost.
   * Trusted like any computation of the coordinator's, so it needs no second opinion.
   */
  private computeOwn(slice: Slice<P>): void {
    // A slice no one else holds: this thread's computation is the truth, with nothing to compare.
    // Otherwise it is a second opinion on a worker's (verify).
    if (slice.answers.length === 0 && slice.assignments.size === 0) slice.verify = false;
    const started = this.clock.now();
    if (this.accumulating && !this.accumulated) {
      // The step's first computation in this thread: its sums become the step's total.
      this.accumulate(slice.indices);
      const ms = this.clock.now() - started;
      this.sizer.record(null, slice.indices.length, ms);
      this.complete(slice);
      this.stepDoneIfLast();
      return;
    }
    const out = this.options.local!(slice.indices, this.weights!, this.version);
    const ms = this.clock.now() - started;
    this.sizer.record(null, slice.indices.length, ms);
    if (slice.verify) this.stats.verify.byCoordinator++;
    if (this.verifyFraction === 0) {
      this.complete(slice);
      this.addAnswer(out.sums, out.rows === null ? null : out.rows.list.subarray(0, out.rows.size), false);
      this.stepDoneIfLast();
      return;
    }
    this.answer(slice, localAnswer<P>(out));
  }

  /**
   * A worker completed its handshake: give it any slice waiting for a worker. The wait for workers
   * is not over until a slice is answered: a worker that joins and fails at once, again and again,
   * must not hold the run forever.
   */
  onReady(peer: P): void {
    for (const slice of this.slices) {
      if (!slice.done && slice.assignments.size === 0 && slice.answers.length === 0) this.assign(slice, peer);
    }
  }

  /** A worker is gone: each unfinished slice it held, and no one else holds, goes to another. */
  onLost(peer: P, reason: Reason | undefined): void {
    this.sizer.forget(peer);
    for (const task of peer.pending) {
      const slice = this.byTask.get(task);
      this.byTask.delete(task);
      if (!slice) continue;
      this.unassign(slice, task);
      this.refill(slice, true, reason);
    }
    peer.pending.clear();
  }

  /**
   * A worker could not compute task `task` (its weights version had left the shared-memory
   * board): the task is no longer its; a slice that still needs it goes to another party.
   */
  onStale(peer: P, task: number): void {
    const slice = this.byTask.get(task);
    if (!slice || !peer.pending.has(task)) return;
    peer.pending.delete(task);
    this.byTask.delete(task);
    this.unassign(slice, task);
    this.refill(slice, true);
  }

  /**
   * A worker's answer. `packed`: its sums list only the touched rows, packed in list order (a
   * shared-memory result; see core's SlotResult); otherwise they are in place (a decoded frame).
   */
  onResult(peer: P, m: ResultMessage, packed = false, elapsedMs?: number): void {
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
      this.refill(slice, true, 'BAD_RESULT');
      return;
    }
    if (slice.done) {
      this.stats.lateAnswers++;
      return;
    }
    // How long the worker took: from the shared-memory slot when it tells (this thread may have
    // noticed the answer later), else until the answer arrived.
    const ms = elapsedMs !== undefined && elapsedMs >= 0 ? elapsedMs : this.clock.now() - sentAt;
    this.timer.record(ms);
    this.sizer.record(peer, m.sums.count, ms);
    this.options.observer?.sliceDone(peer, ms, m.sums.count);
    // Progress: a wait for workers (see orphaned()) starts again from now if it is needed again.
    this.clock.clearTimeout(this.orphanTimer);
    this.orphanTimer = undefined;
    if (this.verifyFraction === 0) {
      // Nothing will be taken back: add straight from the decode buffers.
      this.complete(slice);
      this.addAnswer(m.sums, m.rows, packed);
      this.stepDoneIfLast();
      return;
    }
    this.answer(slice, keepAnswer(peer, m.sums, m.rows, packed));
  }

  /**
   * An answer to a slice while verifying. An unverified slice takes it; a verified one waits for
   * a second computation by another party, and compares the two bit for bit. On a difference the
   * coordinator computes the slice itself and decides: every worker whose sums differ from its
   * own is evicted with RESULT_MISMATCH and refused for the rest of the run, and the slices it
   * alone computed in this step are taken back and recomputed, so the step is unchanged.
   */
  private answer(slice: Slice<P>, answer: Answer<P>): void {
    if (!slice.verify) {
      slice.accepted = answer;
      this.complete(slice);
      this.stepDoneIfLast();
      return;
    }
    slice.answers.push(answer);
    if (slice.answers.length < 2) return this.refill(slice, false);
    const [a, b] = slice.answers as [Answer<P>, Answer<P>];
    let truth = a;
    const liars: P[] = [];
    if (!sameAnswer(a, b)) {
      this.stats.verify.mismatches++;
      truth = a.by === null ? a : b.by === null ? b : this.computeLocally(slice);
      for (const x of [a, b]) if (x.by !== null && !sameAnswer(x, truth)) liars.push(x.by);
    }
    this.stats.verify.verified++;
    slice.accepted = truth;
    this.complete(slice);
    for (const liar of liars) this.evictLiar(liar);
    this.stepDoneIfLast();
  }

  /** Marks a slice done: no more backups; other assignments keep their deadlines (a stalled worker is still dropped). */
  private complete(slice: Slice<P>): void {
    slice.done = true;
    this.clock.clearTimeout(slice.backupTimer);
  }

  /**
   * Adds an answer into the step's total. `packed`: its gW holds the listed rows in list order
   * (a shared-memory result) rather than at their places; a null `rows` is the full gradient.
   */
  private addAnswer(sums: ExactSums, rows: Uint16Array | null, packed: boolean): void {
    const t = this.sums;
    if (rows === null) {
      this.mover.addAll(sums.gW, t.gW);
      addAllRows(this.rows);
    } else {
      if (packed) this.mover.addRows(rows, rows.length, sums.gW, t.gW);
      else addListedRows(rows, sums.gW, t.gW);
      addRows(this.rows, rows);
    }
    for (let k = 0; k < t.gb.length; k++) t.gb[k]! += sums.gb[k]!;
    t.loss += sums.loss;
    t.correct += sums.correct;
    t.count += sums.count;
  }

  /** Ends the step when every slice is done; while verifying, adds the accepted answers now. */
  private stepDoneIfLast(): void {
    if (--this.remaining !== 0) return;
    if (this.verifyFraction > 0) for (const s of this.slices) this.addAnswer(s.accepted!.sums, s.accepted!.rows, false);
    const result = { sums: this.sums, rows: this.rows };
    if (this.timed) this.policy!.record(this.clock.now() - this.stepStart);
    if (this.sync) {
      this.syncResult = result;
      return;
    }
    const finish = this.finish!;
    this.finish = null;
    this.fail = null;
    finish(result);
  }

  /** The coordinator computes a slice itself (trusted: a second opinion or a tie-break). */
  private computeLocally(slice: Slice<P>): Answer<P> {
    this.stats.verify.byCoordinator++;
    return localAnswer<P>(this.options.local!(slice.indices, this.weights!, this.version));
  }

  private evictLiar(liar: P): void {
    this.pool.ban?.(liar);
    // Its unverified answers of this step cannot be trusted: take them back before the drop
    // hands its unanswered slices to others.
    for (const s of this.slices) {
      if (!s.done && s.verify) s.answers = s.answers.filter((a) => a.by !== liar);
      if (!s.done || s.verify || s.accepted?.by !== liar) continue;
      s.done = false;
      s.accepted = undefined;
      this.remaining++;
      this.stats.verify.recomputed++;
    }
    this.pool.drop(liar, 'RESULT_MISMATCH', 'its sums for a slice differed from the coordinator\'s own computation of it');
    for (const s of this.slices) if (!s.done) this.refill(s, false);
  }

  /**
   * Gives a slice the computations it still lacks: one for an unverified slice, two by different
   * parties for a verified one (the second by the coordinator itself when no other worker is
   * there). `failed`: a computation was lost (for `reason`), which counts as a reassignment.
   */
  private refill(slice: Slice<P>, failed: boolean, reason?: Reason): void {
    if (slice.done) return;
    const needed = (slice.verify ? 2 : 1) - slice.answers.length - slice.assignments.size;
    if (needed <= 0) return;
    if (failed) {
      this.stats.reassigned++;
      this.options.observer?.reassigned(reason);
    }
    const parties = new Set<P | null>([...slice.answers.map((a) => a.by), ...slice.assignments.values()]);
    for (let i = 0; i < needed && !slice.done; i++) {
      const target = this.leastBusy(parties as Set<P>);
      // This thread, when it computes a share, takes the slice rather than queue it behind a busy worker.
      const ownFree = this.options.computeShare === true && !parties.has(null);
      if (target && (target.pending.size === 0 || !ownFree)) {
        parties.add(target);
        this.assign(slice, target);
      } else if (ownFree) {
        parties.add(null);
        this.computeOwn(slice);
      } else if (slice.verify && !parties.has(null) && parties.size > 0) {
        // No other worker: the coordinator is the second party.
        parties.add(null);
        this.answer(slice, this.computeLocally(slice));
      } else {
        this.orphaned();
      }
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
    if (this.sync) {
      this.syncError = error;
      return;
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

/** to[row] += from[row] for each listed row of two full-layout matrices. */
function addListedRows(rows: Uint16Array, from: Float64Array, to: Float64Array): void {
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r]! * 10;
    for (let k = o; k < o + 10; k++) to[k]! += from[k]!;
  }
}
