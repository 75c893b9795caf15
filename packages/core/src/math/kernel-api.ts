import type { ExactSums } from './exact.js';
import type { Weights } from './model.js';
import type { RowSet } from './rows.js';
import type { SparseImages } from './sparse.js';
import type { RowMover } from './row-mover.js';

/** The exact sums of one batch, and (optionally) the rows of W they touch. */
export interface BatchSums {
  sums: ExactSums;
  /** Rows with a possibly nonzero gradient, or null for "any row". */
  rows: RowSet | null;
}

/** The implementations of the exact kernel; both compute the same bits (kernel.ts, wasm/kernel.wat). */
export type KernelName = 'wasm' | 'js';

/**
 * One implementation of the exact sparse kernel over one data set, chosen once (createKernel) and
 * then called per batch. Everything a party computes that must agree bit for bit with the other
 * parties goes through it, so the kernel fingerprint (fingerprint.ts) is taken through it too.
 */
export interface Kernel {
  readonly name: KernelName;
  /** Images it computes on. */
  readonly count: number;
  /**
   * The exact sums of the samples `batch` with `weights`. `version` identifies the weights: an
   * implementation that keeps a copy copies again only when it or the arrays change. Every index
   * is checked against `count` here, once (a RangeError naming the first bad one); nothing
   * downstream checks again. The result is only read until the next call.
   */
  compute(batch: Uint32Array, weights: Weights, version: number): BatchSums;
  /**
   * Optional: weights with the values of `from` that live in the kernel's own memory, for a
   * trainer in this thread to update in place (compute() then copies nothing). See WasmKernel.
   */
  residentWeights?(from: Weights): Weights;
  /**
   * Optional: how rows are best moved between arrays of this kernel's memory (row-mover.ts); the
   * shared-memory data plane moves a step's rows with it. jsRowMover when absent.
   */
  readonly mover?: RowMover;
  /** The exp the kernel computes softmax with (exp.ts, or the module's own copy). */
  exp(x: number): number;
  /** The log the kernel computes the loss with (log.ts, or the module's own copy). */
  log(x: number): number;
}

/** Builds a kernel of some implementation over `data`: how a party brings its own Kernel. */
export type KernelFactory = (data: SparseImages) => Kernel;

/** Throws a RangeError naming the first index of `batch` that is not below `count`. */
export function checkIndices(batch: Uint32Array, count: number): void {
  for (let t = 0; t < batch.length; t++) {
    if (!(batch[t]! < count)) throw new RangeError(`sample index ${batch[t]} is beyond the ${count} images`);
  }
}
