import type { ExactSums } from '../math/exact.js';
import { DELTA_SCALE } from '../math/exact.js';
import type { Weights } from '../math/model.js';
import type { RowSet } from '../math/rows.js';
import { CLASSES } from '../math/shape.js';
import type { TrainConfig } from '../types.js';
import { residentKernel } from '../math/wasm/wasm-kernel.js';

/**
 * Whether a step of this config changes only the rows of W its sums touch (plain SGD without
 * weight decay): w − lr·0 = w for every other row. Then applyUpdate updates only those rows, and
 * the rows that differ between two versions of the weights are known without comparing them (the
 * shared-memory plane publishes only those).
 */
export function updatesOnlyRows(config: TrainConfig): boolean {
  return config.momentum !== 1 && config.weight_decay === 0;
}

/**
 * One optimiser step from exact sums; the only place weights change, used by the in-process
 * trainer and the coordinator alike so both produce the same bits.
 *
 * The mean gradient is g = sum / (255·2²⁴·B) for W (pixels are integers, δ is scaled by 2²⁴) and
 * sum / (2²⁴·B) for b, computed by multiplying with the reciprocal. Then, per the origin:
 *   plain SGD:  w ← w − lr·g
 *   momentum:   v ← mu·v + lr·g;  w ← w − v
 * with L2 weight decay λ (an extension) adding λ·W to W's gradient first.
 */
export function applyUpdate(
  weights: Weights,
  velocity: Weights | null,
  sums: ExactSums,
  batchSize: number,
  lr: number,
  config: TrainConfig,
  rows: RowSet | null,
): void {
  const invW = 1 / (255 * DELTA_SCALE * batchSize);
  const invB = 1 / (DELTA_SCALE * batchSize);
  const W = weights.W;
  const gW = sums.gW;
  const lambda = config.weight_decay;

  if (config.momentum === 1) {
    if (velocity === null) throw new Error('applyUpdate: momentum needs a velocity buffer');
    const mu = config.mu;
    const vW = velocity.W;
    for (let i = 0; i < W.length; i++) {
      const g = gW[i]! * invW + lambda * W[i]!;
      const v = mu * vW[i]! + lr * g;
      vW[i] = v;
      W[i] = W[i]! - v;
    }
    for (let k = 0; k < CLASSES; k++) {
      const v = mu * velocity.b[k]! + lr * (sums.gb[k]! * invB);
      velocity.b[k] = v;
      weights.b[k] = weights.b[k]! - v;
    }
    return;
  }

  if (rows !== null && updatesOnlyRows(config)) {
    // Weights living in the kernel's memory (an in-process trainer's) are updated there, with
    // the same operations in SIMD lanes.
    if (residentKernel(W)?.updateResident(weights, sums, rows, lr, invW, invB)) return;
    // Only the touched rows have a nonzero gradient; the others would get w − lr·0 = w.
    const list = rows.list;
    const size = rows.size;
    for (let r = 0; r < size; r++) {
      // Written out ten-wide (one pixel's classes): the same arithmetic per element, 30 % faster.
      const o = list[r]! * CLASSES;
      W[o] = W[o]! - lr * (gW[o]! * invW);
      W[o + 1] = W[o + 1]! - lr * (gW[o + 1]! * invW);
      W[o + 2] = W[o + 2]! - lr * (gW[o + 2]! * invW);
      W[o + 3] = W[o + 3]! - lr * (gW[o + 3]! * invW);
      W[o + 4] = W[o + 4]! - lr * (gW[o + 4]! * invW);
      W[o + 5] = W[o + 5]! - lr * (gW[o + 5]! * invW);
      W[o + 6] = W[o + 6]! - lr * (gW[o + 6]! * invW);
      W[o + 7] = W[o + 7]! - lr * (gW[o + 7]! * invW);
      W[o + 8] = W[o + 8]! - lr * (gW[o + 8]! * invW);
      W[o + 9] = W[o + 9]! - lr * (gW[o + 9]! * invW);
    }
  } else {
    for (let i = 0; i < W.length; i++) W[i] = W[i]! - lr * (gW[i]! * invW + lambda * W[i]!);
  }
  for (let k = 0; k < CLASSES; k++) weights.b[k] = weights.b[k]! - lr * (sums.gb[k]! * invB);
}
