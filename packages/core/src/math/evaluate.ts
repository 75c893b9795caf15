import { exp } from './exp.js';
import { log } from './log.js';
import type { Weights } from './model.js';
import type { Evaluation } from './evaluation.js';
import type { SparseImages } from './sparse.js';
import { wasmEvaluator } from './wasm/wasm-evaluate.js';

export type { Evaluation } from './evaluation.js';

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

/**
 * Loss, accuracy and confusion matrix over `indices` of `data` (all of it by default).
 *
 * The logits are those of `logits()`, bit for bit (each class score starts at 0 and adds its
 * products in ascending pixel order, then is divided by 255 and offset by b), but the ten scores
 * are kept in locals instead of an array. The test set is evaluated after every epoch; this
 * halved the time an evaluation takes.
 */
export function evaluate(weights: Weights, data: SparseImages, indices?: ArrayLike<number>): Evaluation {
  const wasm = wasmEvaluator(data);
  return wasm ? wasm.evaluate(weights, indices) : evaluateJs(weights, data, indices);
}

/** evaluate() in JS: where WebAssembly SIMD is missing, and the reference the module is tested against. */
export function evaluateJs(weights: Weights, data: SparseImages, indices?: ArrayLike<number>): Evaluation {
  const z = new Float64Array(10);
  const confusion = new Uint32Array(100);
  const count = indices ? indices.length : data.count;
  const { W, b } = weights;
  const { offsets, pixels, values, labels } = data;
  const b0 = b[0]!, b1 = b[1]!, b2 = b[2]!, b3 = b[3]!, b4 = b[4]!, b5 = b[5]!, b6 = b[6]!, b7 = b[7]!, b8 = b[8]!, b9 = b[9]!;
  let lossSum = 0;
  let correct = 0;
  for (let t = 0; t < count; t++) {
    const i = indices ? indices[t]! : t;
    let z0 = 0, z1 = 0, z2 = 0, z3 = 0, z4 = 0, z5 = 0, z6 = 0, z7 = 0, z8 = 0, z9 = 0;
    const end = offsets[i + 1]!;
    for (let q = offsets[i]!; q < end; q++) {
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
    const y = labels[i]!;
    const pred = argmax(z);
    const max = z[pred]!;
    let sum = 0;
    for (let k = 0; k < 10; k++) sum += exp(z[k]! - max);
    lossSum += log(sum) - (z[y]! - max);
    if (pred === y) correct++;
    confusion[10 * y + pred]!++;
  }
  return { lossSum, loss: count ? lossSum / count : 0, correct, count, accuracy: count ? correct / count : 0, confusion };
}
