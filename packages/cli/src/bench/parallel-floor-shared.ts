/** What parallel-floor.ts and its threads share: the layout of the control array and the thread's data. */

/** Index of the step counter in the control Int32Array; the main thread bumps it to start a step. */
export const FLOOR_STEP = 0;
/** Index of the count of threads done with the current step. */
export const FLOOR_DONE = 1;
/** The step counter's value that tells the threads to end. */
export const FLOOR_STOP = -1;

export interface FloorThreadData {
  /** The sample order (a Uint32Array's SharedArrayBuffer) that steps take their batches from. */
  order: SharedArrayBuffer;
  batch: number;
  /** This thread's share: the part-th of `parts` contiguous slices of each batch. */
  part: number;
  parts: number;
  /** Int32Array: [step, done]. */
  control: SharedArrayBuffer;
  /** W (784×10) then b (10), float64. */
  weights: SharedArrayBuffer;
  /** This thread's gW then gb, float64. */
  sums: SharedArrayBuffer;
}
