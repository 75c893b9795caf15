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
  gatherRows(list, n, from, toList, to) {
    for (let i = 0; i < n; i++) {
      const p = list[i]!;
      toList[i] = p;
      const f = p * CLASSES;
      const t = i * CLASSES;
      for (let k = 0; k < CLASSES; k++) to[t + k] = from[f + k]!;
    }
  },
  scatterRows(list, n, from, to) {
    for (let i = 0; i < n; i++) {
      const t = list[i]! * CLASSES;
      const f = i * CLASSES;
      for (let k = 0; k < CLASSES; k++) to[t + k] = from[f + k]!;
    }
  },
  addRows(list, n, from, to) {
    for (let i = 0; i < n; i++) {
      const t = list[i]! * CLASSES;
      const f = i * CLASSES;
      for (let k = 0; k < CLASSES; k++) to[t + k]! += from[f + k]!;
    }
  },
  addAll(from, to) {
    for (let j = 0; j < W_LENGTH; j++) to[j]! += from[j]!;
  },
};
