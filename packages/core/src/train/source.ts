import type { ExactSums } from '../math/exact.js';
import { emptySums } from '../math/exact.js';
import { accumulate } from '../math/kernel.js';
import type { Weights } from '../math/model.js';
import type { RowSet } from '../math/rows.js';
import { clearRows, emptyRowSet } from '../math/rows.js';
import type { SparseImages } from '../math/sparse.js';
import { CLASSES } from '../math/sparse.js';

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

/** Computes gradients in this thread with the exact sparse kernel. */
export class LocalGradientSource implements GradientSource {
  private readonly result: BatchSums = { sums: emptySums(), rows: emptyRowSet() };

  constructor(private readonly data: SparseImages) {}

  compute(batch: Uint32Array, weights: Weights): BatchSums {
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
