import { CLASSES, W_LENGTH } from './shape.js';

/**
 * Exact, order-independent gradient sums (DESIGN.md §2).
 *
 * Each sample's δ = softmax(z) − onehot(y) is rounded to the grid 2⁻²⁴ and kept as the integer
 * round(δ·2²⁴); the gradient accumulates p·round(δ·2²⁴) with the integer pixel p. Every term is an
 * integer of magnitude < 2³², so any sum of fewer than 2²¹ terms stays below 2⁵³ and is exact in
 * float64: partial sums from any split of a batch add up to the same bits in any order.
 */
export const DELTA_SCALE = 2 ** 24;

/** The most samples one set of sums may hold and stay exact: 2²¹ (< 2²⁹/255). */
export const MAX_EXACT_SAMPLES = 2 ** 21;

/** Integer-valued sums over a set of samples; see DELTA_SCALE. */
export interface ExactSums {
  /** Σ p·round(δ·2²⁴), 784×10 row-major by pixel. */
  gW: Float64Array;
  /** Σ round(δ·2²⁴), 10. */
  gb: Float64Array;
  /** Σ round(−log p_y · 2²⁴). */
  loss: number;
  /** Samples classified right (argmax, first index on ties). */
  correct: number;
  /** Samples summed. */
  count: number;
}

export function emptySums(): ExactSums {
  return { gW: new Float64Array(W_LENGTH), gb: new Float64Array(CLASSES), loss: 0, correct: 0, count: 0 };
}

export function clearSums(s: ExactSums): void {
  s.gW.fill(0);
  s.gb.fill(0);
  s.loss = 0;
  s.correct = 0;
  s.count = 0;
}

/**
 * into += from. Exact, so the order in which parts are added does not matter. With `rows`, every
 * row of from.gW outside them is zero and only the listed rows are added: the same bits, because
 * `into` starts at +0 and holds sums of integers, which are never −0, so adding a zero changes
 * nothing.
 */
export function addSums(into: ExactSums, from: ExactSums, rows: ArrayLike<number> | null = null): void {
  const a = into.gW;
  const b = from.gW;
  if (rows === null) {
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
  } else {
    for (let r = 0; r < rows.length; r++) {
      const o = rows[r]! * CLASSES;
      for (let k = o; k < o + CLASSES; k++) a[k]! += b[k]!;
    }
  }
  for (let k = 0; k < CLASSES; k++) into.gb[k]! += from.gb[k]!;
  into.loss += from.loss;
  into.correct += from.correct;
  into.count += from.count;
}
