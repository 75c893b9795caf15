import type { ExactSums } from './exact.js';
import { DELTA_SCALE } from './exact.js';
import { forward, forwardPass, OWN_EXP_LOG, type ExpLog } from './forward.js';
import type { Weights } from './model.js';
import type { RowSet } from './rows.js';
import type { SparseImages } from './sparse.js';

/**
 * Names the arithmetic of forward.ts and below (summation order of the logits, where 1/255 is
 * applied, exp and log of our own, how δ is rounded); change it whenever the arithmetic changes.
 * It begins the kernel fingerprint (fingerprint.ts), which the handshake compares: the name alone
 * cannot tell two hosts apart whose arithmetic differs. /1 used the host's Math.exp and Math.log.
 */
export const KERNEL_ID = 'sparse-exact-f64/2';

// One sample's forward pass; the kernel is synchronous and not re-entrant.
const pass = forwardPass();

/**
 * Forward pass, loss and exact gradient sums of samples order[from..to), added into `out`.
 *
 * Per sample: the forward pass of forward.ts (logits, softmax with the maximum subtracted, loss);
 * d_k = round((softmax_k − [k = y])·2²⁴); then gW[p,k] += pixel_p·d_k and gb[k] += d_k, all
 * integer-valued and exact (see exact.ts).
 *
 * When `rows` is given, the pixel rows whose gradient may be nonzero are added to it. `math` is
 * the kernel's own exp and log but for a benchmark's baseline (see ExpLog).
 */
export function accumulate(
  weights: Weights,
  data: SparseImages,
  order: ArrayLike<number>,
  from: number,
  to: number,
  out: ExactSums,
  rows: RowSet | null,
  math: ExpLog = OWN_EXP_LOG,
): void {
  const gW = out.gW;
  const gb = out.gb;
  const offsets = data.offsets;
  const pixels = data.pixels;
  const values = data.values;
  const labels = data.labels;
  let loss = out.loss;
  let correct = out.correct;
  const f = pass;
  const ex = f.e;
  const stamp = rows === null ? null : rows.stamp;
  const rowList = rows === null ? null : rows.list;
  const generation = rows === null ? 0 : rows.generation;
  let rowCount = rows === null ? 0 : rows.size;

  for (let t = from; t < to; t++) {
    const i = order[t]!;
    forward(weights, data, i, f, math);
    const y = labels[i]!;
    if (f.best === y) correct++;
    const inv = 1 / f.sum;
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
    loss += Math.round(f.loss * DELTA_SCALE);

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
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
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
