import type { ExactSums } from './exact.js';
import { DELTA_SCALE } from './exact.js';
import { exp } from './exp.js';
import { log } from './log.js';
import type { Weights } from './model.js';
import type { RowSet } from './rows.js';
import type { SparseImages } from './sparse.js';

/**
 * Names the forward arithmetic below (summation order of the logits, where 1/255 is applied, exp
 * and log of our own, how δ is rounded); change it whenever the arithmetic changes. It begins the
 * kernel fingerprint (fingerprint.ts), which the handshake compares: the name alone cannot tell two
 * hosts apart whose arithmetic differs. /1 used the host's Math.exp and Math.log.
 */
export const KERNEL_ID = 'sparse-exact-f64/2';

// Scratch for one sample's logits and exponentials; the kernel is synchronous and not re-entrant.
const logitsScratch = new Float64Array(10);
const expScratch = new Float64Array(10);

/**
 * Forward pass, loss and exact gradient sums of samples order[from..to), added into `out`.
 *
 * Per sample: z_k = (Σ_p W[p,k]·pixel_p)/255 + b_k over nonzero pixels in ascending pixel order;
 * softmax with the maximum subtracted; d_k = round((softmax_k − [k = y])·2²⁴); then
 * gW[p,k] += pixel_p·d_k and gb[k] += d_k, all integer-valued and exact (see exact.ts).
 * The ten class scores live in locals: this loop is the whole cost of training.
 *
 * When `rows` is given, the pixel rows whose gradient may be nonzero are added to it.
 */
export function accumulate(
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
      const e = exp(z[k]! - max);
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
    loss += Math.round((log(sum) - (z[y]! - max)) * DELTA_SCALE);

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
