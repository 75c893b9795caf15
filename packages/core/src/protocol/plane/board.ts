import type { Weights } from '../../math/model.js';
import { jsRowMover, type RowMover } from '../../math/row-mover.js';
import { CLASSES, PIXELS, W_LENGTH } from '../../math/shape.js';
import { copyF64 } from '../../math/copy.js';
import {
  BOARD_B_AT,
  BOARD_BYTES,
  BOARD_DELTA_ROWS_WORD,
  BOARD_DONE_WORD,
  BOARD_FROM_AT,
  BOARD_LIST_AT,
  BOARD_ROWS_AT,
  BOARD_SEQ_WORD,
  BOARD_VERSION_AT,
  BOARD_W_AT,
  PACKED_ROWS_MAX,
} from './layout.js';

/**
 * The weights board of the shared-memory data plane (layout.ts): the coordinator publishes each
 * version of the weights once, and every worker thread brings its own copy up to date from it,
 * taking only the changed rows when it holds the version before. A worker computes with its own
 * copy, never with the board: the coordinator may rewrite the board while a late worker reads it,
 * and the sequence word tells that worker its copy cannot be trusted.
 */
export class WeightsBoard {
  readonly buffer: SharedArrayBuffer;
  /** The board's first byte in `buffer`. */
  readonly byteOffset: number;
  private readonly words: Int32Array;
  private readonly header: Float64Array;
  private readonly W: Float64Array;
  private readonly b: Float64Array;
  private readonly list: Uint16Array;
  private readonly rows: Float64Array;

  /**
   * A new board, holding no version yet (coordinator side), in `region` (BOARD_BYTES from its
   * byteOffset: a region of the kernels' shared memory, where their modules move its rows) or in
   * a SharedArrayBuffer of its own.
   */
  static create(region?: { buffer: SharedArrayBuffer; byteOffset: number }): WeightsBoard {
    const board = new WeightsBoard(region?.buffer ?? new SharedArrayBuffer(BOARD_BYTES), region?.byteOffset ?? 0);
    board.header[BOARD_VERSION_AT / 8] = -1;
    return board;
  }

  /** A view of a board made by `WeightsBoard.create` (in this thread or another, given its buffer and offset). */
  constructor(buffer: SharedArrayBuffer, byteOffset = 0) {
    if (byteOffset % 8 !== 0 || buffer.byteLength < byteOffset + BOARD_BYTES) throw new RangeError(`a weights board needs ${BOARD_BYTES} bytes at an 8-byte boundary`);
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.words = new Int32Array(buffer, byteOffset, 4);
    this.header = new Float64Array(buffer, byteOffset, BOARD_W_AT / 8);
    this.W = new Float64Array(buffer, byteOffset + BOARD_W_AT, W_LENGTH);
    this.b = new Float64Array(buffer, byteOffset + BOARD_B_AT, CLASSES);
    this.list = new Uint16Array(buffer, byteOffset + BOARD_LIST_AT, PIXELS);
    this.rows = new Float64Array(buffer, byteOffset + BOARD_ROWS_AT, W_LENGTH);
  }

  /** The version on the board (-1: none yet). Coordinator side. */
  get version(): number {
    return this.header[BOARD_VERSION_AT / 8]!;
  }

  /**
   * Puts `weights` of `version` on the board (coordinator side). `changed` lists (its first
   * `changedCount` entries) the rows of W that differ from the version on the board now, when
   * the caller knows them (a plain SGD step changes only the rows of its sums); null means any
   * may differ, and the board then carries no delta. Readers never see a half-written board as
   * consistent (the sequence word is odd while this runs).
   */
  publish(weights: Weights, version: number, changed: Uint16Array | null, changedCount: number, mover: RowMover = jsRowMover): void {
    if (version === this.version) return;
    const words = this.words;
    const seq = Atomics.load(words, BOARD_SEQ_WORD);
    Atomics.store(words, BOARD_SEQ_WORD, seq + 1);
    const from = this.version;
    if (changed !== null && from >= 0 && changedCount <= PACKED_ROWS_MAX) {
      mover.gatherRows(changed, changedCount, weights.W, this.list, this.rows);
      mover.scatterRows(this.list, changedCount, this.rows, this.W);
      words[BOARD_DELTA_ROWS_WORD] = changedCount;
      this.header[BOARD_FROM_AT / 8] = from;
    } else {
      copyF64(this.W, weights.W);
      words[BOARD_DELTA_ROWS_WORD] = -1;
    }
    this.b.set(weights.b);
    this.header[BOARD_VERSION_AT / 8] = version;
    Atomics.store(words, BOARD_SEQ_WORD, seq + 2);
  }

  /**
   * Brings `into` from version `held` (-1: unknown) to `version` (worker side): nothing when it
   * holds it, the changed rows when it holds the version the board's delta leads from, else all of
   * W. Returns `version`, or -1 when the board does not hold `version` (the task is stale: the
   * coordinator has moved on) or changed while being read, in which case `into` holds no known
   * version any more.
   */
  take(into: Weights, held: number, version: number, mover: RowMover = jsRowMover): number {
    const words = this.words;
    const seq = Atomics.load(words, BOARD_SEQ_WORD);
    if ((seq & 1) === 1 || this.header[BOARD_VERSION_AT / 8] !== version) return held === version ? version : -1;
    if (held === version) return version;
    const n = words[BOARD_DELTA_ROWS_WORD]!;
    if (n >= 0 && held >= 0 && this.header[BOARD_FROM_AT / 8] === held) mover.scatterRows(this.list, n, this.rows, into.W);
    else copyF64(into.W, this.W);
    into.b.set(this.b);
    return Atomics.load(words, BOARD_SEQ_WORD) === seq ? version : -1;
  }

  /** Counts a result written, and wakes a coordinator waiting for one (worker side). */
  resultWritten(): void {
    Atomics.add(this.words, BOARD_DONE_WORD, 1);
    Atomics.notify(this.words, BOARD_DONE_WORD);
  }

  /** Results written so far (coordinator side: what `waitForResult` compares with). */
  resultsWritten(): number {
    return Atomics.load(this.words, BOARD_DONE_WORD);
  }

  /**
   * Resolves once a result was written after `seen` results, or after `timeoutMs`, without
   * blocking this thread (Atomics.waitAsync where the runtime has it, else a timer).
   */
  waitForResult(seen: number, timeoutMs: number): Promise<void> {
    return waitAsync(this.words, BOARD_DONE_WORD, seen, timeoutMs);
  }
}

type WaitAsync = (array: Int32Array, index: number, value: number, timeout: number) => { async: boolean; value: Promise<string> | string };

/**
 * Resolves when `array[index]` is no longer `value` (after an Atomics.notify), or after
 * `timeoutMs`, without blocking: Atomics.waitAsync, or a timer on runtimes that lack it.
 */
export function waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): Promise<void> {
  const wait = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
  if (wait === undefined) return new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 1)));
  const r = wait(array, index, value, timeoutMs);
  return r.async ? (r.value as Promise<string>).then(() => undefined) : Promise.resolve();
}
