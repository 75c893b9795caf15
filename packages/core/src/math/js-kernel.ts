import type { Evaluation } from './evaluation.js';
import type { ExactSums } from './exact.js';
import { emptySums } from './exact.js';
import { forward, forwardPass, OWN_EXP_LOG, type ExpLog } from './forward.js';
import type { BatchSums, Kernel } from './kernel-api.js';
import { checkIndices, checkSampleIndices } from './kernel-api.js';
import { accumulate } from './kernel.js';
import type { Weights } from './model.js';
import type { RowSet } from './rows.js';
import { clearRows, emptyRowSet } from './rows.js';
import type { SparseImages } from './sparse.js';
import { CLASSES } from './shape.js';
import { jsRowMover } from './row-mover.js';

/**
 * The exact kernel in plain JS (accumulate of kernel.ts, forward of forward.ts): the fallback where
 * WebAssembly SIMD is missing. `math` is its own exp and log but for a benchmark's baseline.
 */
export class JsKernel implements Kernel {
  readonly name = 'js';
  readonly count: number;
  readonly exp: (x: number) => number;
  readonly log: (x: number) => number;
  readonly mover = jsRowMover;
  private readonly sums: ExactSums = emptySums();
  private readonly rows: RowSet = emptyRowSet();
  private readonly result: BatchSums = { sums: this.sums, rows: this.rows };
  private readonly pass = forwardPass();

  private readonly math: ExpLog;

  constructor(
    private readonly data: SparseImages,
    math: ExpLog = OWN_EXP_LOG,
  ) {
    this.count = data.count;
    this.exp = math.exp;
    this.log = math.log;
    // An object of OWN_EXP_LOG's shape: forward() then reads exp and log from one shape of object
    // whichever the kernel (a variant may carry more fields, see KernelVariant).
    this.math = math === OWN_EXP_LOG ? math : { exp: math.exp, log: math.log };
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
    accumulate(weights, this.data, batch, 0, batch.length, sums, rows, this.math);
    return this.result;
  }

  evaluate(weights: Weights, indices?: ArrayLike<number>): Evaluation {
    const { data, math, pass } = this;
    if (indices) checkSampleIndices(indices, data.count, 'evaluate');
    const count = indices ? indices.length : data.count;
    const confusion = new Uint32Array(CLASSES * CLASSES);
    let lossSum = 0;
    let correct = 0;
    for (let t = 0; t < count; t++) {
      const i = indices ? indices[t]! : t;
      forward(weights, data, i, pass, math);
      const y = data.labels[i]!;
      lossSum += pass.loss;
      if (pass.best === y) correct++;
      confusion[CLASSES * y + pass.best]!++;
    }
    return { lossSum, loss: count ? lossSum / count : 0, correct, count, accuracy: count ? correct / count : 0, confusion };
  }
}
