import type { ExactSums } from '../math/exact.js';
import { emptySums } from '../math/exact.js';
import { accumulate } from '../math/kernel.js';
import type { Weights } from '../math/model.js';
import type { RowSet } from '../math/rows.js';
import { clearRows, emptyRowSet } from '../math/rows.js';
import type { SparseImages } from '../math/sparse.js';
import { CLASSES } from '../math/shape.js';
import { WasmKernel, wasmKernelAvailable } from '../math/wasm/wasm-kernel.js';

/** The exact sums of one batch, and (optionally) the rows of W they touch. */
export interface BatchSums {
  sums: ExactSums;
  /** Rows with a possibly nonzero gradient, or null for "any row". */
  rows: RowSet | null;
}

/**
 * Where a training loop gets its gradient sums: computed in this thread, or gathered from workers.
 * `version` identifies `weights`: it changes exactly when the weights do. The result is only read
 * until the next call.
 */
export interface GradientSource {
  compute(batch: Uint32Array, weights: Weights, version: number): BatchSums | Promise<BatchSums>;
}

/** Which implementation of the exact kernel a LocalGradientSource runs; both give the same bits. */
export type KernelChoice = 'auto' | 'wasm' | 'js';

export interface LocalGradientSourceOptions {
  /**
   * 'auto' (default): WebAssembly SIMD where the runtime has it, else JS. 'wasm': WebAssembly or
   * an error. 'js': the JS kernel of math/kernel.ts.
   */
  kernel?: KernelChoice;
}

/**
 * Computes gradients in this thread with the exact sparse kernel: the WebAssembly one where the
 * runtime has SIMD, else the JS one (the same arithmetic, the same bits; KERNEL_ID names both).
 */
export class LocalGradientSource implements GradientSource {
  /** The implementation in use. */
  readonly kernel: 'wasm' | 'js';
  private readonly result: BatchSums;
  private readonly wasm: WasmKernel | null = null;
  // The weights the WebAssembly kernel holds a copy of: copied again when any of these differ.
  private heldVersion = NaN;
  private heldW: Float64Array | null = null;
  private heldB: Float64Array | null = null;

  constructor(
    private readonly data: SparseImages,
    options: LocalGradientSourceOptions = {},
  ) {
    const choice = options.kernel ?? 'auto';
    if (choice === 'wasm' || (choice === 'auto' && wasmKernelAvailable())) {
      try {
        this.wasm = new WasmKernel(data);
      } catch (e) {
        if (choice === 'wasm') throw e;
      }
    }
    this.kernel = this.wasm === null ? 'js' : 'wasm';
    this.result = this.wasm === null ? { sums: emptySums(), rows: emptyRowSet() } : { sums: this.wasm.sums, rows: this.wasm.rows };
  }

  compute(batch: Uint32Array, weights: Weights, version: number): BatchSums {
    const wasm = this.wasm;
    if (wasm !== null) {
      if (version !== this.heldVersion || weights.W !== this.heldW || weights.b !== this.heldB) {
        wasm.setWeights(weights);
        this.heldVersion = version;
        this.heldW = weights.W;
        this.heldB = weights.b;
      }
      wasm.compute(batch);
      return this.result;
    }
    const { sums, rows } = this.result;
    // Only the rows the previous batch touched can be nonzero: clear those, not all 7,840 entries.
    const gW = sums.gW;
    const list = rows!.list;
    const size = rows!.size;
    for (let r = 0; r < size; r++) {
      const o = list[r]! * CLASSES;
      for (let k = o; k < o + CLASSES; k++) gW[k] = 0;
    }
    clearRows(rows!);
    sums.gb.fill(0);
    sums.loss = 0;
    sums.correct = 0;
    sums.count = 0;
    accumulate(weights, this.data, batch, 0, batch.length, sums, rows);
    return this.result;
  }
}

/** Exact sums of `batch` in one call, from fresh buffers (for tests, library users and workers). */
export function batchSums(weights: Weights, data: SparseImages, batch: ArrayLike<number>): ExactSums {
  const sums = emptySums();
  accumulate(weights, data, batch, 0, batch.length, sums, null);
  return sums;
}
