import { addSums, emptySums, MnistLrError, type BatchSums, type ExactSums, type GradientSource, type Weights } from '@mnist-lr/core';
import type { Reason, ResultMessage } from '@mnist-lr/core/protocol';
import type { Peer, Pool } from './pool.js';

/** A contiguous part of a batch and who is computing it. */
interface Slice {
  indices: Uint32Array;
  done: boolean;
  /** Task id of the assignment in flight, if any. */
  task: number;
  peer: Peer | null;
  deadline: NodeJS.Timeout | undefined;
}

export interface SchedulerOptions {
  /** A slice not answered within this is taken from its worker (who is dropped) and given to another. Default 10000 ms. */
  stepTimeoutMs: number;
  /** With no worker connected, wait this long for one before failing with NO_WORKERS. Default 60000 ms. */
  workerWaitMs: number;
  log: (line: string) => void;
}

/**
 * Computes a batch's exact sums on the connected workers (DESIGN.md §6): the batch is split into
 * contiguous slices, one per live worker; each returns its slice's exact sums, which are added in
 * whatever order they arrive. Because the sums are exact (math/exact.ts) a slice may be recomputed
 * by any worker after a failure and the step's result is the same to the bit.
 */
export class DistributedGradientSource implements GradientSource {
  private readonly total: ExactSums = emptySums();
  private slices: Slice[] = [];
  private remaining = 0;
  private weights: Weights | null = null;
  private version = -1;
  private nextTask = 1;
  private readonly byTask = new Map<number, Slice>();
  private finish: ((r: BatchSums) => void) | null = null;
  private fail: ((e: Error) => void) | null = null;
  private orphanTimer: NodeJS.Timeout | undefined;
  /** Slices reassigned after a failure, over the run. */
  reassigned = 0;

  constructor(
    private readonly pool: Pool,
    private readonly options: SchedulerOptions,
  ) {}

  compute(batch: Uint32Array, weights: Weights, version: number): Promise<BatchSums> {
    const t = this.total;
    t.gW.fill(0);
    t.gb.fill(0);
    t.loss = 0;
    t.correct = 0;
    t.count = 0;
    this.weights = weights;
    this.version = version;
    const peers = this.pool.ready();
    const parts = Math.max(1, Math.min(peers.length, batch.length));
    this.slices = [];
    for (let s = 0; s < parts; s++) {
      const from = Math.floor((s * batch.length) / parts);
      const to = Math.floor(((s + 1) * batch.length) / parts);
      this.slices.push({ indices: batch.subarray(from, to), done: false, task: 0, peer: null, deadline: undefined });
    }
    this.remaining = this.slices.length;
    return new Promise<BatchSums>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
      this.slices.forEach((slice, s) => (peers[s] ? this.assign(slice, peers[s]) : this.orphaned()));
    });
  }

  /** A worker completed its handshake: give it any slice waiting for a worker. */
  onReady(peer: Peer): void {
    for (const slice of this.slices) {
      if (!slice.done && slice.peer === null) this.assign(slice, peer);
    }
    if (this.slices.every((s) => s.done || s.peer !== null)) {
      clearTimeout(this.orphanTimer);
      this.orphanTimer = undefined;
    }
  }

  /** A worker is gone: its unfinished slices go to the live workers with the least to do. */
  onLost(peer: Peer, _reason: Reason | undefined): void {
    for (const task of peer.pending) {
      const slice = this.byTask.get(task);
      this.byTask.delete(task);
      if (!slice || slice.done || slice.peer !== peer) continue;
      clearTimeout(slice.deadline);
      slice.peer = null;
      this.reassigned++;
      const target = this.leastBusy();
      if (target) this.assign(slice, target);
      else this.orphaned();
    }
    peer.pending.clear();
  }

  onResult(peer: Peer, m: ResultMessage): void {
    const slice = this.byTask.get(m.task);
    if (!slice || !peer.pending.has(m.task)) {
      this.pool.drop(peer, 'UNEXPECTED_MESSAGE', `result for task ${m.task}, which this worker was not given`);
      return;
    }
    peer.pending.delete(m.task);
    this.byTask.delete(m.task);
    clearTimeout(slice.deadline);
    if (m.sums.count !== slice.indices.length) {
      // Give the slice back before dropping, so onLost does not see it.
      slice.peer = null;
      this.pool.drop(peer, 'BAD_RESULT', `sums over ${m.sums.count} samples for a slice of ${slice.indices.length}`);
      this.reassigned++;
      const target = this.leastBusy();
      if (target) this.assign(slice, target);
      else this.orphaned();
      return;
    }
    if (slice.done) return;
    slice.done = true;
    slice.peer = null;
    addSums(this.total, m.sums);
    if (--this.remaining === 0) {
      const finish = this.finish!;
      this.finish = null;
      this.fail = null;
      finish({ sums: this.total, rows: null });
    }
  }

  /** Fails the step in progress (shutdown). */
  abort(error: Error): void {
    clearTimeout(this.orphanTimer);
    for (const s of this.slices) clearTimeout(s.deadline);
    const fail = this.fail;
    this.finish = null;
    this.fail = null;
    fail?.(error);
  }

  private assign(slice: Slice, peer: Peer): void {
    const task = this.nextTask++;
    slice.task = task;
    slice.peer = peer;
    this.byTask.set(task, slice);
    peer.pending.add(task);
    const weights = peer.version === this.version ? null : this.weights;
    peer.version = this.version;
    slice.deadline = setTimeout(() => this.pool.drop(peer, 'STEP_DEADLINE'), this.options.stepTimeoutMs);
    peer.send({ type: 'task', task, version: this.version, weights, indices: slice.indices });
  }

  private leastBusy(): Peer | undefined {
    let best: Peer | undefined;
    for (const p of this.pool.ready()) if (!best || p.pending.size < best.pending.size) best = p;
    return best;
  }

  /** A slice has no worker: wait a bounded time for one to join. */
  private orphaned(): void {
    if (this.orphanTimer) return;
    this.options.log(`no worker connected; waiting up to ${Math.round(this.options.workerWaitMs / 1000)} s for one to join`);
    this.orphanTimer = setTimeout(() => {
      this.orphanTimer = undefined;
      this.abort(new MnistLrError('NO_WORKERS', `no worker joined within ${Math.round(this.options.workerWaitMs / 1000)} s; start workers with \`mnist-lr worker --connect <url>\` or raise --worker-wait`));
    }, this.options.workerWaitMs);
  }
}
