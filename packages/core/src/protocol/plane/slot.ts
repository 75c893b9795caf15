import type { ExactSums } from '../../math/exact.js';
import { jsRowMover, type RowMover } from '../../math/row-mover.js';
import type { RowSet } from '../../math/rows.js';
import { CLASSES, PIXELS, W_LENGTH } from '../../math/shape.js';
import { waitAsync } from './board.js';
import { copyF64 } from '../../math/copy.js';
import {
  RESULT_OK,
  RESULT_STALE,
  SLOT_BOUND_SEQ_WORD,
  SLOT_CAPACITY_WORD,
  SLOT_CLOSED,
  SLOT_CORRECT_WORD,
  SLOT_COUNT_WORD,
  SLOT_DONE_AT,
  SLOT_DONE_SEQ_WORD,
  SLOT_EPOCH_AT,
  SLOT_INDICES_AT,
  SLOT_LOSS_AT,
  SLOT_OPEN,
  SLOT_PROOF_AT,
  SLOT_PROOF_BYTES,
  SLOT_RESULT_TASK_AT,
  SLOT_ROWS_WORD,
  SLOT_SAMPLES_WORD,
  SLOT_SLEEPING_WORD,
  SLOT_SPIN_WORD,
  SLOT_STATE_WORD,
  SLOT_STATUS_WORD,
  SLOT_TASK_AT,
  SLOT_TASK_SEQ_WORD,
  SLOT_VERSION_AT,
  slotBytes,
  RESULT_BYTES,
  RESULT_GB_AT,
  RESULT_LIST_AT,
  RESULT_ROWS_AT,
  PACKED_ROWS_MAX,
} from './layout.js';

/** A task as a worker reads it from its slot. `indices` is a view onto the slot: read it before answering. */
export interface SlotTask {
  /** The slot's task sequence number this task was posted under (echoed by the answer). */
  seq: number;
  task: number;
  version: number;
  epoch: number;
  indices: Uint32Array;
}

/**
 * A result as the coordinator reads it from a slot: views onto the slot, valid until its next
 * task. Packed: `sums.gW` holds the listed rows in list order (row i of the packed matrix is pixel
 * rows[i]), or all 784 rows in order when `rows` is null.
 */
export interface SlotResult {
  task: number;
  /** False when the worker could not take the task's weights (the board had moved on). */
  ok: boolean;
  sums: ExactSums;
  /** The rows the slice touched, in the order its kernel touched them, or null for the full gradient. */
  rows: Uint16Array | null;
  /** When the worker finished it: milliseconds since the clock's origin, comparable across threads. */
  doneAt: number;
}

/** Where a slot's result area lies: a region of the kernels' shared memory, or a buffer of its own. */
export interface ResultArea {
  buffer: SharedArrayBuffer;
  byteOffset: number;
}

/**
 * One worker thread's slot of the shared-memory data plane (layout.ts): the coordinator posts a
 * task's descriptor, the worker answers it with the slice's exact sums. Each side writes its part
 * completely, then bumps its sequence word with Atomics, so the other never reads half of it; a
 * result carries the sequence and task it answers, so a late answer to an earlier task is never
 * taken for the current one.
 */
export class TaskSlot {
  /** The descriptor's buffer: header and indices. */
  readonly buffer: SharedArrayBuffer;
  /** Where the result's arrays lie. */
  readonly result: ResultArea;
  /** Sample indices a task may carry. */
  readonly capacity: number;
  private readonly words: Int32Array;
  private readonly header: Float64Array;
  private readonly indices: Uint32Array;
  private readonly list: Uint16Array;
  private readonly packed: Float64Array;
  private readonly gb: Float64Array;
  private readonly sums: ExactSums;
  /** The coordinator's last posted sequence number (coordinator side). */
  private posted = 0;

  /** A view of a slot made by `TaskSlot.create` (in this thread or another, given its buffers). */
  constructor(buffer: SharedArrayBuffer, result: ResultArea) {
    const capacity = buffer.byteLength >= SLOT_INDICES_AT ? new Int32Array(buffer, 0, 32)[SLOT_CAPACITY_WORD]! : 0;
    if (capacity < 1 || buffer.byteLength < slotBytes(capacity)) throw new RangeError('not a task slot of the shared-memory plane');
    if (result.byteOffset % 8 !== 0 || result.buffer.byteLength < result.byteOffset + RESULT_BYTES) throw new RangeError(`a slot's result area needs ${RESULT_BYTES} bytes at an 8-byte boundary`);
    this.buffer = buffer;
    this.result = { buffer: result.buffer, byteOffset: result.byteOffset };
    this.capacity = capacity;
    this.words = new Int32Array(buffer, 0, 32);
    this.header = new Float64Array(buffer, 0, SLOT_INDICES_AT / 8);
    this.indices = new Uint32Array(buffer, SLOT_INDICES_AT, capacity);
    const at = result.byteOffset;
    this.list = new Uint16Array(result.buffer, at + RESULT_LIST_AT, PIXELS);
    this.packed = new Float64Array(result.buffer, at + RESULT_ROWS_AT, W_LENGTH);
    this.gb = new Float64Array(result.buffer, at + RESULT_GB_AT, CLASSES);
    this.sums = { gW: this.packed, gb: this.gb, loss: 0, correct: 0, count: 0 };
    this.posted = Atomics.load(this.words, SLOT_TASK_SEQ_WORD);
  }

  /**
   * A new slot for tasks of up to `capacity` samples, with a fresh random proof (coordinator
   * side). Its result area lies in `result` (RESULT_BYTES from its byteOffset: a region of the
   * kernels' shared memory) or in a buffer of its own.
   */
  static create(capacity: number, result?: ResultArea): TaskSlot {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`a task slot's capacity must be a positive integer, got ${capacity}`);
    const buffer = new SharedArrayBuffer(slotBytes(capacity));
    new Int32Array(buffer, 0, 32)[SLOT_CAPACITY_WORD] = capacity;
    globalThis.crypto.getRandomValues(new Uint8Array(buffer, SLOT_PROOF_AT, SLOT_PROOF_BYTES));
    return new TaskSlot(buffer, result ?? { buffer: new SharedArrayBuffer(RESULT_BYTES), byteOffset: 0 });
  }

  /**
   * The slot's proof, hex: random bytes only a thread holding this memory can read. A worker sends
   * it in its hello to show that it lives in the coordinator's process.
   */
  proof(): string {
    let hex = '';
    for (const byte of new Uint8Array(this.buffer, SLOT_PROOF_AT, SLOT_PROOF_BYTES)) hex += byte.toString(16).padStart(2, '0');
    return hex;
  }

  // ---- coordinator side ----

  /** Binds the slot to a connection (state open); `spin`: whether its worker may spin between tasks. */
  open(spin: boolean): void {
    this.setSpin(spin);
    Atomics.store(this.words, SLOT_BOUND_SEQ_WORD, this.posted);
    Atomics.store(this.words, SLOT_STATE_WORD, SLOT_OPEN);
  }

  /** Releases the slot (its worker stops using it) and wakes a sleeping worker to see that. */
  close(): void {
    Atomics.store(this.words, SLOT_STATE_WORD, SLOT_CLOSED);
    Atomics.notify(this.words, SLOT_TASK_SEQ_WORD);
  }

  setSpin(spin: boolean): void {
    Atomics.store(this.words, SLOT_SPIN_WORD, spin ? 1 : 0);
  }

  /** Whether the last posted task is answered (no task posted counts as answered). */
  answered(): boolean {
    return Atomics.load(this.words, SLOT_DONE_SEQ_WORD) === this.posted;
  }

  /** Posts a task; the slot must be answered (answered()) first. */
  post(task: number, version: number, epoch: number, indices: Uint32Array): void {
    if (indices.length > this.capacity) throw new RangeError(`a slice of ${indices.length} samples does not fit a slot of ${this.capacity}`);
    const h = this.header;
    h[SLOT_TASK_AT / 8] = task;
    h[SLOT_VERSION_AT / 8] = version;
    h[SLOT_EPOCH_AT / 8] = epoch;
    this.words[SLOT_COUNT_WORD] = indices.length;
    this.indices.set(indices);
    this.posted = (this.posted + 1) | 0;
    Atomics.store(this.words, SLOT_TASK_SEQ_WORD, this.posted);
    if (Atomics.load(this.words, SLOT_SLEEPING_WORD) === 1) Atomics.notify(this.words, SLOT_TASK_SEQ_WORD);
  }

  /** The answer to the last posted task; call only when answered(). */
  answer(): SlotResult {
    const words = this.words;
    const n = words[SLOT_ROWS_WORD]!;
    const sums = this.sums;
    sums.loss = this.header[SLOT_LOSS_AT / 8]!;
    sums.correct = words[SLOT_CORRECT_WORD]!;
    sums.count = words[SLOT_SAMPLES_WORD]!;
    return {
      task: this.header[SLOT_RESULT_TASK_AT / 8]!,
      ok: words[SLOT_STATUS_WORD] === RESULT_OK,
      sums,
      rows: n < 0 ? null : this.list.subarray(0, Math.min(n, PIXELS)),
      doneAt: this.header[SLOT_DONE_AT / 8]!,
    };
  }

  // ---- worker side ----

  /** Whether the coordinator released the slot. */
  closed(): boolean {
    return Atomics.load(this.words, SLOT_STATE_WORD) === SLOT_CLOSED;
  }

  /** Whether the coordinator lets this worker spin between tasks. */
  maySpin(): boolean {
    return Atomics.load(this.words, SLOT_SPIN_WORD) === 1;
  }

  /**
   * The task sequence number as of the slot's binding to this connection: the tasks to answer are
   * those posted after it (the welcome, which tells the worker of the binding, may arrive after
   * the first task).
   */
  boundSeq(): number {
    return Atomics.load(this.words, SLOT_BOUND_SEQ_WORD);
  }

  /** The sequence number of the latest posted task. */
  taskSeq(): number {
    return Atomics.load(this.words, SLOT_TASK_SEQ_WORD);
  }

  /** The task posted under `seq` (from taskSeq()). */
  readTask(seq: number): SlotTask {
    const h = this.header;
    return { seq, task: h[SLOT_TASK_AT / 8]!, version: h[SLOT_VERSION_AT / 8]!, epoch: h[SLOT_EPOCH_AT / 8]!, indices: this.indices.subarray(0, this.words[SLOT_COUNT_WORD]!) };
  }

  /**
   * Answers task `t` with its exact sums: the touched rows packed (in the kernel's order) when
   * they are at most PACKED_ROWS_MAX, else the full gradient. Bumps the done sequence last.
   */
  reply(t: SlotTask, sums: ExactSums, rows: RowSet | null, mover: RowMover = jsRowMover): void {
    const words = this.words;
    if (rows === null || rows.size > PACKED_ROWS_MAX) {
      copyF64(this.packed, sums.gW);
      words[SLOT_ROWS_WORD] = -1;
    } else {
      mover.gatherRows(rows.list, rows.size, sums.gW, this.list, this.packed);
      words[SLOT_ROWS_WORD] = rows.size;
    }
    this.gb.set(sums.gb);
    this.header[SLOT_LOSS_AT / 8] = sums.loss;
    words[SLOT_CORRECT_WORD] = sums.correct;
    words[SLOT_SAMPLES_WORD] = sums.count;
    this.finish(t, RESULT_OK);
  }

  /** Answers task `t` as stale: its weights version is gone from the board. */
  stale(t: SlotTask): void {
    this.words[SLOT_ROWS_WORD] = 0;
    this.words[SLOT_SAMPLES_WORD] = 0;
    this.finish(t, RESULT_STALE);
  }

  /**
   * Sleeps until a task is posted after `seen`, the slot is closed, or `timeoutMs` passed, without
   * blocking the thread's event loop (Atomics.waitAsync).
   */
  async sleep(seen: number, timeoutMs: number): Promise<void> {
    Atomics.store(this.words, SLOT_SLEEPING_WORD, 1);
    try {
      // A task posted between the caller's check and the flag above is seen here, not slept through.
      if (this.taskSeq() !== seen || this.closed()) return;
      await waitAsync(this.words, SLOT_TASK_SEQ_WORD, seen, timeoutMs);
    } finally {
      Atomics.store(this.words, SLOT_SLEEPING_WORD, 0);
    }
  }

  private finish(t: SlotTask, status: number): void {
    this.header[SLOT_DONE_AT / 8] = performance.timeOrigin + performance.now();
    this.words[SLOT_STATUS_WORD] = status;
    this.header[SLOT_RESULT_TASK_AT / 8] = t.task;
    Atomics.store(this.words, SLOT_DONE_SEQ_WORD, t.seq);
  }
}
