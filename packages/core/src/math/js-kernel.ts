import type { ExactSums } from './exact.js';
import { emptySums } from './exact.js';
import { exp } from './exp.js';
import type { BatchSums, Kernel } from './kernel-api.js';
import { checkIndices } from './kernel-api.js';
import { accumulate } from './kernel.js';
import { log } from './log.js';
import type { Weights } from './model.js';
import type { RowSet } from './rows.js';
import { clearRows, emptyRowSet } from './rows.js';
import type { SparseImages } from './sparse.js';
import { CLASSES } from './shape.js';
import { jsRowMover } from './row-mover.js';

/** The exact kernel in plain JS (accumulate of kernel.ts): the fallback where WebAssembly SIMD is missing. */
export class JsKernel implements Kernel {
  readonly name = 'js';
  readonly count: number;
  readonly exp = exp;
  readonly log = log;
  readonly mover = jsRowMover;
  private readonly sums: ExactSums = emptySums();
  private readonly rows: RowSet = emptyRowSet();
  private readonly result: BatchSums = { sums: this.sums, rows: this.rows };

  constructor(private readonly data: SparseImages) {
    this.count = data.count;
  }

  compute(batch: Uint32Array, weights: Weights, _version: number): BatchSums {
    checkIndices(batch, this.count);
    const { sums, rows } = this;
    // Only the rows the previous batch touched can be nonzero: clear those, not all 7,840 entries.
    const gW = sums.gW;
    for (let r = 0; r < rows.size; r++) {
      const o = rows.list[r]! * CLASSES;
      for (let k = o; k < o + CLASSES; k++) gW[k] = 0;
    }
    clearRows(rows);
    sums.gb.fill(0);
    sums.loss = 0;
    sums.correct = 0;
    sums.count = 0;
    accumulate(weights, this.data, batch, 0, batch.length, sums, rows);
    return this.result;
  }
}
