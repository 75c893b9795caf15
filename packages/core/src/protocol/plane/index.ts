/** The shared-memory data plane between a coordinator and the worker threads of its process (layout.ts). */
export { WeightsBoard } from './board.js';
export { TaskSlot, type SlotTask, type SlotResult, type ResultArea } from './slot.js';
export { copyWeights } from './copy.js';

/**
 * What a worker thread of the coordinator's process is started with to use the plane (the
 * coordinator's threadSlot(), passed as the thread's workerData): the weights board and the
 * thread's own slot. Structured-cloneable; useless to a worker in another process.
 */
export interface ThreadSlot {
  /** The weights board: its buffer and first byte. */
  board: { buffer: SharedArrayBuffer; byteOffset: number };
  /** The slot's descriptor buffer. */
  slot: SharedArrayBuffer;
  /** The slot's result area: its buffer and first byte. */
  result: { buffer: SharedArrayBuffer; byteOffset: number };
}
