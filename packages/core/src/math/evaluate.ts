import { exp } from './exp.js';
import { log } from './log.js';
import type { Weights } from './model.js';
import type { SparseImages } from './sparse.js';

/** Test-set (or validation) measurements of a model. */
export interface Evaluation {
  /** Σ −log p_y over the samples, float64, summed in sample order (the origin's "test loss"). */
  lossSum: number;
  /** lossSum / count. */
  loss: number;
  correct: number;
  count: number;
  /** correct / count. */
  accuracy: number;
  /** confusion[10·y + prediction]: how many samples of label y were predicted as prediction. */
  confusion: Uint32Array;
}

/**
 * Logits of image i, with the kernel's arithmetic (ascending pixels, integer pixel values, one
 * division by 255 per class), so predictions agree with those made during training.
 */
export function logits(weights: Weights, data: SparseImages, i: number, z: Float64Array): void {
  const W = weights.W;
  z.fill(0);
  for (let q = data.offsets[i]!; q < data.offsets[i + 1]!; q++) {
    const o = data.pixels[q]! * 10;
    const v = data.values[q]!;
    for (let k = 0; k < 10; k++) z[k]! += W[o + k]! * v;
  }
  for (let k = 0; k < 10; k++) z[k] = z[k]! / 255 + weights.b[k]!;
}

/** Softmax of z in place, stable for any finite logits (the maximum is subtracted before exp). */
export function softmax(z: Float64Array): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < z.length; k++) if (z[k]! > max) max = z[k]!;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    const e = exp(z[k]! - max);
    z[k] = e;
    sum += e;
  }
  for (let k = 0; k < z.length; k++) z[k] = z[k]! / sum;
  return z;
}

/** Index of the first maximum. */
export function argmax(z: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < z.length; k++) if (z[k]! > z[best]!) best = k;
  return best;
}

/** Loss, accuracy and confusion matrix over `indices` of `data` (all of it by default). */
export function evaluate(weights: Weights, data: SparseImages, indices?: ArrayLike<number>): Evaluation {
  const z = new Float64Array(10);
  const confusion = new Uint32Array(100);
  const count = indices ? indices.length : data.count;
  let lossSum = 0;
  let correct = 0;
  for (let t = 0; t < count; t++) {
    const i = indices ? indices[t]! : t;
    logits(weights, data, i, z);
    const y = data.labels[i]!;
    const pred = argmax(z);
    let max = z[pred]!;
    let sum = 0;
    for (let k = 0; k < 10; k++) sum += exp(z[k]! - max);
    lossSum += log(sum) - (z[y]! - max);
    if (pred === y) correct++;
    confusion[10 * y + pred]!++;
  }
  return { lossSum, loss: count ? lossSum / count : 0, correct, count, accuracy: count ? correct / count : 0, confusion };
}
