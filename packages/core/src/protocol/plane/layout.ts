/**
 * The shared-memory data plane's memory layout (DESIGN.md §10): how a coordinator and the worker
 * threads of its own process exchange a step's bulk bytes without a socket. Control traffic
 * (upgrade, hello, welcome, refusals, leave) stays on each worker's WebSocket; only the per-step
 * data goes through these SharedArrayBuffers:
 *
 * - one **weights board** per coordinator, written once per step: the current W and b in full,
 *   and the rows that changed since the previous version, packed, so that a worker holding the
 *   previous version copies only those. A sequence word (even: stable, odd: being written) lets a
 *   reader tell a consistent copy from one taken while the coordinator wrote.
 * - one **slot** per worker thread: the task's descriptor (task id, weights version, epoch, sample
 *   indices) written by the coordinator, and the result (the exact sums of the slice, only the
 *   touched rows, packed) written by the worker. Each side bumps its own sequence word last, with
 *   Atomics, so the other side reads a descriptor or a result only once it is complete; a result
 *   carries the task id it answers.
 *
 * The board and each slot's result area lie, where they can, in the shared WebAssembly memory the
 * training images live in (a region of it), so that the kernels' modules copy and add their rows
 * in SIMD lanes (core's row-mover.ts); offsets are from the region's start. A slot's descriptor
 * (which can hold a whole batch of indices) is a SharedArrayBuffer of its own.
 *
 * Byte offsets below; Int32 word indices are named *_WORD. Every f64 field is 8-byte aligned.
 */
import { CLASSES, PIXELS, W_LENGTH } from '../../math/shape.js';

/**
 * Rows packed up to this many; past it, all of W (or gW) is copied whole. Bytes that cross from
 * one core's cache to another's are what a step pays for here, so rows are packed much further
 * than on the wire (which sends full gradients past half the rows): a batch of 100 touches about
 * 530 rows, 42 KB packed against 62 KB whole.
 */
export const PACKED_ROWS_MAX = 700;

// The weights board.
/** Int32 word: the board's sequence number; odd while the coordinator writes it. */
export const BOARD_SEQ_WORD = 0;
/** Int32 word: results written by workers so far (what a coordinator waiting asynchronously waits on). */
export const BOARD_DONE_WORD = 1;
/** Int32 word: rows listed in the board's delta, or -1 when there is none (take the full weights). */
export const BOARD_DELTA_ROWS_WORD = 2;
/** f64: the version of the weights on the board. */
export const BOARD_VERSION_AT = 16;
/** f64: the version the delta leads from (it leads to BOARD_VERSION_AT). */
export const BOARD_FROM_AT = 24;
/** The full W (7840 f64), then b (10 f64). */
export const BOARD_W_AT = 64;
export const BOARD_B_AT = BOARD_W_AT + W_LENGTH * 8;
/** The delta: the changed rows' pixel indices (u16, in any order), then their values packed in that order. */
export const BOARD_LIST_AT = BOARD_B_AT + CLASSES * 8;
export const BOARD_ROWS_AT = align8(BOARD_LIST_AT + PIXELS * 2);
export const BOARD_BYTES = BOARD_ROWS_AT + W_LENGTH * 8;

// A worker's slot.
/** Int32 word: bumped by the coordinator when a task's descriptor is complete. */
export const SLOT_TASK_SEQ_WORD = 0;
/** Int32 word: set by the worker to the task sequence it answered, once the result is complete. */
export const SLOT_DONE_SEQ_WORD = 1;
/** Int32 word: SLOT_OPEN while a connection is bound to the slot, SLOT_CLOSED once released. */
export const SLOT_STATE_WORD = 2;
/** Int32 word: 1 while the worker sleeps in Atomics.waitAsync (the coordinator then notifies). */
export const SLOT_SLEEPING_WORD = 3;
/** Int32 word: 1 when the worker may spin between tasks (the coordinator keeps spinners ≤ cores). */
export const SLOT_SPIN_WORD = 4;
/** Int32 word: the task's number of sample indices. */
export const SLOT_COUNT_WORD = 5;
/** Int32 word: the result's status (RESULT_OK or RESULT_STALE). */
export const SLOT_STATUS_WORD = 6;
/** Int32 word: rows listed in the result, or -1 for the full gradient. */
export const SLOT_ROWS_WORD = 7;
/** Int32 word: the result's correctly classified samples. */
export const SLOT_CORRECT_WORD = 8;
/** Int32 word: the result's number of samples. */
export const SLOT_SAMPLES_WORD = 9;
/** f64: the task id (unique per coordinator run), the weights version and the 0-based epoch. */
export const SLOT_TASK_AT = 48;
export const SLOT_VERSION_AT = 56;
export const SLOT_EPOCH_AT = 64;
/** f64: the result's task id (the task it answers) and its quantised loss sum. */
export const SLOT_RESULT_TASK_AT = 72;
export const SLOT_LOSS_AT = 80;
/** f64: when the worker finished the result, ms since the clock's origin (performance.timeOrigin + performance.now()). */
export const SLOT_DONE_AT = 88;
/** 16 random bytes, written by the coordinator when it makes the slot: the thread's proof that it holds this memory. */
export const SLOT_PROOF_AT = 96;
export const SLOT_PROOF_BYTES = 16;
/**
 * Int32 word: the task sequence number when the coordinator bound the slot to a connection: the
 * worker of that connection answers the tasks posted after it, not an earlier connection's.
 */
export const SLOT_BOUND_SEQ_WORD = 10;
/** Int32 word: the slot's capacity in sample indices, written when it is made. */
export const SLOT_CAPACITY_WORD = 31;
/** The task's sample indices (u32), as many as the slot's capacity. */
export const SLOT_INDICES_AT = 128;

export const SLOT_OPEN = 1;
export const SLOT_CLOSED = 2;
export const RESULT_OK = 0;
/** The worker could not take the task's weights version (the board had moved on): the task is not computed. */
export const RESULT_STALE = 1;

/** Bytes of a slot's descriptor buffer for tasks of up to `capacity` indices. */
export function slotBytes(capacity: number): number {
  return SLOT_INDICES_AT + capacity * 4;
}

// A slot's result area.
/** The touched rows' pixel indices (u16), in the order the worker's kernel touched them. */
export const RESULT_LIST_AT = 0;
/** Their gradient sums, packed in list order (all 784 rows in order when the result is full). */
export const RESULT_ROWS_AT = align8(PIXELS * 2);
/** The bias sums (10 f64). */
export const RESULT_GB_AT = RESULT_ROWS_AT + W_LENGTH * 8;
export const RESULT_BYTES = RESULT_GB_AT + CLASSES * 8;

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
