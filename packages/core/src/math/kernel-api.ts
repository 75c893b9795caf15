import type { Evaluation } from './evaluation.js';
import type { ExactSums } from './exact.js';
import type { ExpLog } from './forward.js';
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
   * Loss, accuracy and confusion matrix with `weights` over the samples `indices`, in that order
   * (all images by default), from the same forward pass as compute(): Σ −log p_y in float64,
   * added in sample order. A RangeError names the first index that is not one of the images.
   */
  evaluate(weights: Weights, indices?: ArrayLike<number>): Evaluation;
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

/**
 * A kernel computing with another exp and log than its own: a benchmark's baseline, whose bits
 * depend on the host, never for training. `wasm`: the WebAssembly kernel's module assembled from
 * kernel.wat with $exp and $log imported from "env" (where exp and log go); the JS kernel takes
 * exp and log as they are.
 */
export interface KernelVariant extends ExpLog {
  wasm?: Uint8Array;
}

/** Builds a kernel of some implementation over `data`: how a party brings its own Kernel. */
export type KernelFactory = (data: SparseImages) => Kernel;

/** Throws a RangeError naming the first index of `batch` that is not below `count`. */
export function checkIndices(batch: Uint32Array, count: number): void {
  for (let t = 0; t < batch.length; t++) {
    if (!(batch[t]! < count)) throw new RangeError(`sample index ${batch[t]} is beyond the ${count} images`);
  }
}

/** Throws a RangeError naming the first of `indices` that is not the index of one of `count` images. */
export function checkSampleIndices(indices: ArrayLike<number>, count: number, what: string): void {
  for (let t = 0; t < indices.length; t++) {
    const i = indices[t]!;
    if (!(Number.isInteger(i) && i >= 0 && i < count)) throw new RangeError(`${what}: sample index ${i} is not one of the ${count} images`);
  }
}
