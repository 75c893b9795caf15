import { PIXELS } from './shape.js';

/**
 * The set of pixel rows of W a batch touched. With plain SGD and no weight decay only these rows
 * change, so the optimiser can skip the rest: at batch 10 that is about half of W. Skipping an
 * untouched row gives the same bits as updating it (w − lr·0 = w).
 */
export interface RowSet {
  /** stamp[p] === generation ⇔ row p is in the set. */
  stamp: Uint32Array;
  /** The rows in the set, first `size` entries, in the order they were first touched. */
  list: Uint16Array;
  size: number;
  generation: number;
}

export function emptyRowSet(): RowSet {
  return { stamp: new Uint32Array(PIXELS), list: new Uint16Array(PIXELS), size: 0, generation: 1 };
}

/** Empties the set in O(1). */
export function clearRows(rows: RowSet): void {
  rows.size = 0;
  rows.generation++;
  if (rows.generation === 0xffffffff) {
    rows.stamp.fill(0);
    rows.generation = 1;
  }
}

/** Adds each row of `list` to the set (rows already in it stay where they are). */
export function addRows(rows: RowSet, list: ArrayLike<number>): void {
  const { stamp, generation } = rows;
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    if (stamp[p] !== generation) {
      stamp[p] = generation;
      rows.list[rows.size++] = p;
    }
  }
}

/** Adds every row to the set (a full gradient: any row may change). */
export function addAllRows(rows: RowSet): void {
  const { stamp, generation } = rows;
  for (let p = 0; p < PIXELS; p++) {
    if (stamp[p] !== generation) {
      stamp[p] = generation;
      rows.list[rows.size++] = p;
    }
  }
}

/**
 * The rows of `rows`, ascending, when sending only them is worth it (fewer than half of all
 * rows); null for "the full gradient". A result's row list on the wire: a worker sends it, and a
 * coordinator that recomputes a slice to verify it derives the same list the same way.
 */
export function rowList(rows: RowSet | null): Uint16Array | null {
  if (rows === null || rows.size * 2 > PIXELS) return null;
  // In pixel order straight from the set's stamps: a pass over 784 entries, no sort.
  const out = new Uint16Array(rows.size);
  for (let p = 0, n = 0; n < rows.size; p++) if (rows.stamp[p] === rows.generation) out[n++] = p;
  return out;
}
