import { CLASSES, PIXELS, type Weights } from '@mnist-lr/core/engine';

/**
 * The plain dense loop: features x = pixel/255 as float64, every one of the 784 pixels visited,
 * gradients accumulated in float64 in visit order. It is the baseline `mnist-lr bench kernel`
 * measures the exact sparse kernel against; it is not exact across splits and trains nothing.
 */
export function denseGradient(
  weights: Weights,
  images: Uint8Array,
  labels: Uint8Array,
  order: ArrayLike<number>,
  from: number,
  to: number,
  gW: Float64Array,
  gb: Float64Array,
): number {
  const W = weights.W;
  const x = new Float64Array(PIXELS);
  const z = new Float64Array(CLASSES);
  let loss = 0;
  for (let t = from; t < to; t++) {
    const i = order[t]!;
    const base = i * PIXELS;
    for (let p = 0; p < PIXELS; p++) x[p] = images[base + p]! / 255;
    for (let k = 0; k < CLASSES; k++) z[k] = weights.b[k]!;
    for (let p = 0; p < PIXELS; p++) {
      const xp = x[p]!;
      for (let k = 0; k < CLASSES; k++) z[k]! += W[p * CLASSES + k]! * xp;
    }
    let max = -Infinity;
    for (let k = 0; k < CLASSES; k++) if (z[k]! > max) max = z[k]!;
    let sum = 0;
    for (let k = 0; k < CLASSES; k++) {
      z[k] = Math.exp(z[k]! - max);
      sum += z[k]!;
    }
    const y = labels[i]!;
    loss -= Math.log(z[y]! / sum);
    for (let k = 0; k < CLASSES; k++) z[k] = z[k]! / sum - (k === y ? 1 : 0);
    for (let p = 0; p < PIXELS; p++) {
      const xp = x[p]!;
      for (let k = 0; k < CLASSES; k++) gW[p * CLASSES + k]! += xp * z[k]!;
    }
    for (let k = 0; k < CLASSES; k++) gb[k]! += z[k]!;
  }
  return loss;
}
