import type { ExactSums } from '../math/exact.js';
import { DELTA_SCALE } from '../math/exact.js';
import type { Weights } from '../math/model.js';
import type { RowSet } from '../math/rows.js';
import { CLASSES } from '../math/sparse.js';
import type { TrainConfig } from '../types.js';

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

  if (rows !== null && lambda === 0) {
    // Only the touched rows have a nonzero gradient; the others would get w − lr·0 = w.
    const list = rows.list;
    const size = rows.size;
    for (let r = 0; r < size; r++) {
      const o = list[r]! * CLASSES;
      for (let k = o; k < o + CLASSES; k++) W[k] = W[k]! - lr * (gW[k]! * invW);
    }
  } else {
    for (let i = 0; i < W.length; i++) W[i] = W[i]! - lr * (gW[i]! * invW + lambda * W[i]!);
  }
  for (let k = 0; k < CLASSES; k++) weights.b[k] = weights.b[k]! - lr * (sums.gb[k]! * invB);
}
