/**
 * Verified results (--verify FRACTION): a slice's exact sums are the same bits wherever they are
 * computed (DESIGN.md §2), so computing a slice twice and comparing bit for bit proves a fault at
 * the first difference; there is no tolerance to tune and no honest worker is ever accused.
 *
 * The scheduler keeps a copy of every answer while it verifies: decoded results live in buffers
 * that the next frame reuses, and a liar's answers must be taken back out of the step.
 */
import { randomInt } from 'node:crypto';
import { emptySums, jsRowMover, PIXELS, rowList, type BatchSums, type ExactSums } from '@mnist-lr/core/engine';

/** One computation of a slice: by a worker, or by the coordinator itself (`by` null). */
export interface Answer<P> {
  by: P | null;
  sums: ExactSums;
  /** The rows the sums list (ascending), or null for the full gradient, as on the wire. */
  rows: Uint16Array | null;
}

/**
 * A copy of a result, which lives in reused buffers, in the wire's form: gW in place (every row
 * not listed zero) and the rows ascending. `packed`: the result lists its rows in any order with
 * their sums packed in that order (a shared-memory result), not in place.
 */
export function keepAnswer<P>(by: P | null, sums: ExactSums, rows: Uint16Array | null, packed = false): Answer<P> {
  const copy = emptySums();
  if (packed && rows !== null) jsRowMover.scatterRows(rows, rows.length, sums.gW, copy.gW);
  else if (rows === null) copy.gW.set(sums.gW);
  else for (const p of rows) copy.gW.set(sums.gW.subarray(p * 10, p * 10 + 10), p * 10);
  copy.gb.set(sums.gb);
  copy.loss = sums.loss;
  copy.correct = sums.correct;
  copy.count = sums.count;
  // As on the wire (core's rowList): the full gradient past half the rows, else the rows ascending.
  return { by, sums: copy, rows: rows === null || rows.length * 2 > PIXELS ? null : rows.slice().sort() };
}

/** The coordinator's own computation of a slice, in the shape a worker's answer has on the wire. */
export function localAnswer<P>(computed: BatchSums): Answer<P> {
  return keepAnswer<P>(null, computed.sums, rowList(computed.rows));
}

/** True when two answers are the same to the bit (Object.is: -0 and NaN included). */
export function sameAnswer<P>(a: Answer<P>, b: Answer<P>): boolean {
  const x = a.sums;
  const y = b.sums;
  if (x.count !== y.count || !Object.is(x.loss, y.loss) || x.correct !== y.correct) return false;
  for (let i = 0; i < x.gb.length; i++) if (!Object.is(x.gb[i], y.gb[i])) return false;
  for (let i = 0; i < x.gW.length; i++) if (!Object.is(x.gW[i], y.gW[i])) return false;
  if (a.rows === null || b.rows === null) return a.rows === b.rows;
  if (a.rows.length !== b.rows.length) return false;
  for (let i = 0; i < a.rows.length; i++) if (a.rows[i] !== b.rows[i]) return false;
  return true;
}

/** Counters of verification, for the summary, status pages and tests. */
export interface VerifyStats {
  /** Slices computed twice whose answers agreed, or were settled by a third computation. */
  verified: number;
  /** Computations the coordinator made itself (second opinions and tie-breaks). */
  byCoordinator: number;
  /** Slices whose two computations differed. */
  mismatches: number;
  /** Slices taken back out of a step because the worker that computed them was caught lying. */
  recomputed: number;
}

/** Random numbers for choosing the slices to verify: not predictable by a worker. */
export function secureRandom(): number {
  return randomInt(0, 2 ** 32) / 2 ** 32;
}
