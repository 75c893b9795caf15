import { CLASSES, W_LENGTH } from './shape.js';

/**
 * Moving rows of W-shaped matrices (784 rows of ten f64, one row per pixel) between the full
 * layout and a packed one that holds only some rows, in list order: what the shared-memory data
 * plane does every step (the weights rows a step changed, the gradient rows a slice touched).
 * Copies, and adds of exact sums (integers, so any order gives the same bits: DESIGN.md §2).
 *
 * A WebAssembly kernel moves rows in its module, 80 bytes at a time in SIMD lanes, when every
 * array lives in its memory (WasmKernel.mover); `jsRowMover` is the same in JS, for any arrays.
 */
export interface RowMover {
  /** to[i] = from[list[i]] (rows) and toList[i] = list[i], for i < n. */
  gatherRows(list: Uint16Array, n: number, from: Float64Array, toList: Uint16Array, to: Float64Array): void;
  /** to[list[i]] = from[i] (rows), for i < n. */
  scatterRows(list: Uint16Array, n: number, from: Float64Array, to: Float64Array): void;
  /** to[list[i]] += from[i] (rows), for i < n. */
  addRows(list: Uint16Array, n: number, from: Float64Array, to: Float64Array): void;
  /** to += from, all 7840 entries. */
  addAll(from: Float64Array, to: Float64Array): void;
}

export const jsRowMover: RowMover = {
  // Each row written out ten-wide (one pixel's classes): three times faster than a loop over them.
  gatherRows(list, n, from, toList, to) {
    for (let i = 0, t = 0; i < n; i++, t += CLASSES) {
      const p = list[i]!;
      toList[i] = p;
      const f = p * CLASSES;
      to[t] = from[f]!;
      to[t + 1] = from[f + 1]!;
      to[t + 2] = from[f + 2]!;
      to[t + 3] = from[f + 3]!;
      to[t + 4] = from[f + 4]!;
      to[t + 5] = from[f + 5]!;
      to[t + 6] = from[f + 6]!;
      to[t + 7] = from[f + 7]!;
      to[t + 8] = from[f + 8]!;
      to[t + 9] = from[f + 9]!;
    }
  },
  scatterRows(list, n, from, to) {
    for (let i = 0, f = 0; i < n; i++, f += CLASSES) {
      const t = list[i]! * CLASSES;
      to[t] = from[f]!;
      to[t + 1] = from[f + 1]!;
      to[t + 2] = from[f + 2]!;
      to[t + 3] = from[f + 3]!;
      to[t + 4] = from[f + 4]!;
      to[t + 5] = from[f + 5]!;
      to[t + 6] = from[f + 6]!;
      to[t + 7] = from[f + 7]!;
      to[t + 8] = from[f + 8]!;
      to[t + 9] = from[f + 9]!;
    }
  },
  addRows(list, n, from, to) {
    for (let i = 0, f = 0; i < n; i++, f += CLASSES) {
      const t = list[i]! * CLASSES;
      for (let k = 0; k < CLASSES; k++) to[t + k]! += from[f + k]!;
    }
  },
  addAll(from, to) {
    for (let j = 0; j < W_LENGTH; j++) to[j]! += from[j]!;
  },
};
