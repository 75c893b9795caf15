import type { ExactSums } from './exact.js';
import { DELTA_SCALE, emptySums } from './exact.js';
import type { BatchSums, Kernel, KernelName } from './kernel-api.js';
import { checkIndices } from './kernel-api.js';
import type { Weights } from './model.js';
import type { RowSet } from './rows.js';
import { clearRows, emptyRowSet } from './rows.js';
import type { SparseImages } from './sparse.js';
import { CLASSES } from './shape.js';
import { WasmKernel } from './wasm/wasm-kernel.js';

/**
 * The exact kernel as it was before it had exp and log of its own: the host's Math.exp and
 * Math.log, whose last bits depend on the engine, its C library and the CPU. Kept only as the
 * baseline `mnist-lr bench` measures the own exp and log against, in JS and in WebAssembly; never
 * for training. accumulateHostMath below is kernel.ts's accumulate with those two calls changed
 * (host-math.test.ts checks the copy against the source).
 */
export function hostMathKernel(data: SparseImages, name: KernelName): Kernel {
  return name === 'wasm' ? new WasmKernel(data, { hostMath: true }) : new JsHostMathKernel(data);
}

// Scratch for one sample's logits and exponentials, as in kernel.ts.
const logitsScratch = new Float64Array(10);
const expScratch = new Float64Array(10);

class JsHostMathKernel implements Kernel {
  readonly name = 'js';
  readonly count: number;
  readonly exp = Math.exp;
  readonly log = Math.log;
  private readonly sums: ExactSums = emptySums();
  private readonly rows: RowSet = emptyRowSet();

  constructor(private readonly data: SparseImages) {
    this.count = data.count;
  }

  compute(batch: Uint32Array, weights: Weights, _version: number): BatchSums {
    checkIndices(batch, this.count);
    const { sums, rows } = this;
    for (let r = 0; r < rows.size; r++) {
      const o = rows.list[r]! * CLASSES;
      for (let k = o; k < o + CLASSES; k++) sums.gW[k] = 0;
    }
    clearRows(rows);
    sums.gb.fill(0);
    sums.loss = 0;
    sums.correct = 0;
    sums.count = 0;
    accumulateHostMath(weights, this.data, batch, 0, batch.length, sums, rows);
    return { sums, rows };
  }
}

function accumulateHostMath(
  weights: Weights,
  data: SparseImages,
  order: ArrayLike<number>,
  from: number,
  to: number,
  out: ExactSums,
  rows: RowSet | null,
): void {
  const W = weights.W;
  const bias = weights.b;
  const gW = out.gW;
  const gb = out.gb;
  const offsets = data.offsets;
  const pixels = data.pixels;
  const values = data.values;
  const labels = data.labels;
  const b0 = bias[0]!, b1 = bias[1]!, b2 = bias[2]!, b3 = bias[3]!, b4 = bias[4]!;
  const b5 = bias[5]!, b6 = bias[6]!, b7 = bias[7]!, b8 = bias[8]!, b9 = bias[9]!;
  let loss = out.loss;
  let correct = out.correct;
  const z = logitsScratch;
  const ex = expScratch;
  const stamp = rows === null ? null : rows.stamp;
  const rowList = rows === null ? null : rows.list;
  const generation = rows === null ? 0 : rows.generation;
  let rowCount = rows === null ? 0 : rows.size;

  for (let t = from; t < to; t++) {
    const i = order[t]!;
    const start = offsets[i]!;
    const end = offsets[i + 1]!;

    let z0 = 0, z1 = 0, z2 = 0, z3 = 0, z4 = 0, z5 = 0, z6 = 0, z7 = 0, z8 = 0, z9 = 0;
    for (let q = start; q < end; q++) {
      const o = pixels[q]! * 10;
      const v = values[q]!;
      z0 += W[o]! * v;
      z1 += W[o + 1]! * v;
      z2 += W[o + 2]! * v;
      z3 += W[o + 3]! * v;
      z4 += W[o + 4]! * v;
      z5 += W[o + 5]! * v;
      z6 += W[o + 6]! * v;
      z7 += W[o + 7]! * v;
      z8 += W[o + 8]! * v;
      z9 += W[o + 9]! * v;
    }
    z[0] = z0 / 255 + b0;
    z[1] = z1 / 255 + b1;
    z[2] = z2 / 255 + b2;
    z[3] = z3 / 255 + b3;
    z[4] = z4 / 255 + b4;
    z[5] = z5 / 255 + b5;
    z[6] = z6 / 255 + b6;
    z[7] = z7 / 255 + b7;
    z[8] = z8 / 255 + b8;
    z[9] = z9 / 255 + b9;

    // Stable softmax: subtract the maximum; the first maximum is the prediction.
    let best = 0;
    let max = z[0]!;
    for (let k = 1; k < 10; k++) {
      if (z[k]! > max) {
        max = z[k]!;
        best = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < 10; k++) {
      const e = Math.exp(z[k]! - max);
      ex[k] = e;
      sum += e;
    }
    const y = labels[i]!;
    if (best === y) correct++;
    const inv = 1 / sum;
    const d0 = Math.round((ex[0]! * inv - (y === 0 ? 1 : 0)) * DELTA_SCALE);
    const d1 = Math.round((ex[1]! * inv - (y === 1 ? 1 : 0)) * DELTA_SCALE);
    const d2 = Math.round((ex[2]! * inv - (y === 2 ? 1 : 0)) * DELTA_SCALE);
    const d3 = Math.round((ex[3]! * inv - (y === 3 ? 1 : 0)) * DELTA_SCALE);
    const d4 = Math.round((ex[4]! * inv - (y === 4 ? 1 : 0)) * DELTA_SCALE);
    const d5 = Math.round((ex[5]! * inv - (y === 5 ? 1 : 0)) * DELTA_SCALE);
    const d6 = Math.round((ex[6]! * inv - (y === 6 ? 1 : 0)) * DELTA_SCALE);
    const d7 = Math.round((ex[7]! * inv - (y === 7 ? 1 : 0)) * DELTA_SCALE);
    const d8 = Math.round((ex[8]! * inv - (y === 8 ? 1 : 0)) * DELTA_SCALE);
    const d9 = Math.round((ex[9]! * inv - (y === 9 ? 1 : 0)) * DELTA_SCALE);
    // −log p_y = log Σ e^(z − max) − (z_y − max), finite even for logits of ±10⁴.
    loss += Math.round((Math.log(sum) - (z[y]! - max)) * DELTA_SCALE);

    gb[0]! += d0;
    gb[1]! += d1;
    gb[2]! += d2;
    gb[3]! += d3;
    gb[4]! += d4;
    gb[5]! += d5;
    gb[6]! += d6;
    gb[7]! += d7;
    gb[8]! += d8;
    gb[9]! += d9;
    for (let q = start; q < end; q++) {
      const o = pixels[q]! * 10;
      const v = values[q]!;
      gW[o]! += v * d0;
      gW[o + 1]! += v * d1;
      gW[o + 2]! += v * d2;
      gW[o + 3]! += v * d3;
      gW[o + 4]! += v * d4;
      gW[o + 5]! += v * d5;
      gW[o + 6]! += v * d6;
      gW[o + 7]! += v * d7;
      gW[o + 8]! += v * d8;
      gW[o + 9]! += v * d9;
    }
    if (stamp !== null) {
      for (let q = start; q < end; q++) {
        const p = pixels[q]!;
        if (stamp[p] !== generation) {
          stamp[p] = generation;
          rowList![rowCount++] = p;
        }
      }
    }
  }
  if (rows !== null) rows.size = rowCount;
  out.loss = loss;
  out.correct = correct;
  out.count += to - from;
}
