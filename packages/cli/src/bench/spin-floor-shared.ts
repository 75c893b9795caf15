/** What spin-floor.ts and its thread share: the control array's layout and the thread's data. */

/** Int32 index of the step the main thread has started (the whole descriptor of a step). */
export const SPIN_STEP = 0;
/** Int32 index of the last step the thread finished; 32 bytes on, another cache line. */
export const SPIN_DONE = 16;
/** The step number that tells the thread to end. */
export const SPIN_STOP = -1;

export interface SpinThreadData {
  /** The sample order (a Uint32Array's SharedArrayBuffer) that steps take their batches from. */
  order: SharedArrayBuffer;
  batch: number;
  /** Int32Array: SPIN_STEP, SPIN_DONE. */
  control: SharedArrayBuffer;
}
