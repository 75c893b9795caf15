import type { ExactSums } from '../math/exact.js';
import { emptySums } from '../math/exact.js';
import { createKernel, type KernelChoice } from '../math/choose-kernel.js';
import { accumulate } from '../math/kernel.js';
import { kernelFingerprint } from '../math/fingerprint.js';
import { checkIndices, type BatchSums, type Kernel, type KernelFactory } from '../math/kernel-api.js';
import type { Weights } from '../math/model.js';
import type { SparseImages } from '../math/sparse.js';

export type { BatchSums } from '../math/kernel-api.js';
export type { KernelChoice } from '../math/choose-kernel.js';

/**
 * Where a training loop gets its gradient sums: computed in this thread, or gathered from workers.
 * `version` identifies `weights`: it changes exactly when the weights do. The result is only read
 * until the next call.
 */
export interface GradientSource {
  compute(batch: Uint32Array, weights: Weights, version: number): BatchSums | Promise<BatchSums>;
}

export interface LocalGradientSourceOptions {
  /**
   * Which kernel: 'auto' (default, WebAssembly SIMD where the runtime has it), 'wasm', 'js', or a
   * factory of another Kernel.
   */
  kernel?: KernelChoice | KernelFactory;
}

/** Computes gradients in this thread with the exact sparse kernel, chosen once (createKernel). */
export class LocalGradientSource implements GradientSource {
  /** The kernel in use. */
  readonly kernel: Kernel;
  private readonly choice: KernelChoice | KernelFactory;

  constructor(data: SparseImages, options: LocalGradientSourceOptions = {}) {
    this.choice = options.kernel ?? 'auto';
    this.kernel = createKernel(data, this.choice);
  }

  /** The fingerprint of this source's kernel: the same implementation, run on the probe. */
  fingerprint(): string {
    return kernelFingerprint(this.choice === 'auto' ? this.kernel.name : this.choice);
  }

  compute(batch: Uint32Array, weights: Weights, version: number): BatchSums {
    return this.kernel.compute(batch, weights, version);
  }

  /** Weights with the values of `from` held in the kernel's memory where it can (Kernel.residentWeights), else `from`. */
  residentWeights(from: Weights): Weights {
    return this.kernel.residentWeights?.(from) ?? from;
  }
}

/** Exact sums of `batch` in one call, from fresh buffers (for tests and library users). */
export function batchSums(weights: Weights, data: SparseImages, batch: ArrayLike<number>): ExactSums {
  checkIndices(Uint32Array.from(batch), data.count);
  const sums = emptySums();
  accumulate(weights, data, batch, 0, batch.length, sums, null);
  return sums;
}
