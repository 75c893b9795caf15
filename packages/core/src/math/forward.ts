import { exp as ownExp } from './exp.js';
import { log as ownLog } from './log.js';
import type { Weights } from './model.js';
import { CLASSES } from './shape.js';
import type { SparseImages } from './sparse.js';

/**
 * The exp and log a forward pass computes with. Every party computes with the kernel's own
 * (exp.ts, log.ts: the same bits on every engine); a benchmark's baseline passes the host's
 * Math.exp and Math.log instead, whose bits depend on the host, and never trains with them.
 */
export interface ExpLog {
  exp(x: number): number;
  log(x: number): number;
}

/** The kernel's own exp and log. */
export const OWN_EXP_LOG: ExpLog = { exp: ownExp, log: ownLog };

/** One sample's forward pass as forward() leaves it: buffers reused from sample to sample. */
export interface ForwardPass {
  /** The logits z_k. */
  readonly z: Float64Array;
  /** e_k = exp(z_k − max). */
  readonly e: Float64Array;
  /** The first index of the largest logit: the prediction. */
  best: number;
  /** The largest logit, z[best]. */
  max: number;
  /** Σ e_k, added in class order from 0. */
  sum: number;
  /** −log p_y = log(sum) − (z_y − max) for the image's label y. */
  loss: number;
}

export function forwardPass(): ForwardPass {
  return { z: new Float64Array(CLASSES), e: new Float64Array(CLASSES), best: 0, max: 0, sum: 0, loss: 0 };
}

/**
 * The forward pass of image i of `data` into `out`, the one JS home of the arithmetic that every
 * party must share bit for bit (DESIGN.md §2): training (kernel.ts), evaluation (js-kernel.ts) and
 * prediction (predict.ts) call it, and kernel.wat's $forward does the same operations in the same
 * order.
 *
 * z_k = (Σ_p W[p,k]·pixel_p)/255 + b_k over the nonzero pixels in ascending order: each class
 * score starts at 0 and adds its products, integer pixel values, one division by 255 per class.
 * The ten scores live in locals while they are summed: this loop is most of the cost of training.
 * Then the first maximum (strict >, in class order), e_k = exp(z_k − max) summed in class order,
 * and the loss log(sum) − (z_y − max), finite even for logits of ±10⁴.
 */
export function forward(weights: Weights, data: SparseImages, i: number, out: ForwardPass, math: ExpLog): void {
  const W = weights.W;
  const b = weights.b;
  const pixels = data.pixels;
  const values = data.values;
  const end = data.offsets[i + 1]!;
  let z0 = 0, z1 = 0, z2 = 0, z3 = 0, z4 = 0, z5 = 0, z6 = 0, z7 = 0, z8 = 0, z9 = 0;
  for (let q = data.offsets[i]!; q < end; q++) {
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
  const z = out.z;
  z[0] = z0 / 255 + b[0]!;
  z[1] = z1 / 255 + b[1]!;
  z[2] = z2 / 255 + b[2]!;
  z[3] = z3 / 255 + b[3]!;
  z[4] = z4 / 255 + b[4]!;
  z[5] = z5 / 255 + b[5]!;
  z[6] = z6 / 255 + b[6]!;
  z[7] = z7 / 255 + b[7]!;
  z[8] = z8 / 255 + b[8]!;
  z[9] = z9 / 255 + b[9]!;

  // Stable softmax: subtract the maximum; the first maximum is the prediction.
  let best = 0;
  let max = z[0]!;
  for (let k = 1; k < 10; k++) {
    if (z[k]! > max) {
      max = z[k]!;
      best = k;
    }
  }
  const exp = math.exp;
  const e = out.e;
  let sum = 0;
  for (let k = 0; k < 10; k++) {
    const x = exp(z[k]! - max);
    e[k] = x;
    sum += x;
  }
  out.best = best;
  out.max = max;
  out.sum = sum;
  out.loss = math.log(sum) - (z[data.labels[i]!]! - max);
}
