import type { ExactSums } from '../math/exact.js';
import type { Weights } from '../math/model.js';

/**
 * The wire protocol: a discriminated union on `type`.
 *
 *   worker → coordinator   hello, result
 *   coordinator → worker   welcome, weights, task, bye
 *
 * After the HTTP upgrade (which carries the token), the worker sends `hello`; the coordinator
 * answers `welcome` or closes with a coded reason. Then the coordinator sends `task`s (sample
 * indices), each preceded by a `weights` message when the weights changed since that worker last
 * saw them (the same encoded frame goes to every worker); the worker answers each task with a
 * `result` holding the exact sums of that slice (DESIGN.md §2, §5).
 *
 * Bump the version with every change to a message's shape: a peer of another version is refused
 * at its hello with PROTOCOL_MISMATCH instead of failing on the first message it cannot read.
 * 2: weights travel in their own message, results may carry only the touched rows.
 */
export const PROTOCOL_VERSION = 2;

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  /** sha256 fingerprint of the worker's four MNIST files. */
  dataset: string;
  /** KERNEL_ID of the worker's kernel. */
  kernel: string;
  /** A label for logs (host:pid or thread number). */
  worker: string;
}

export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  /** The id the coordinator will use for this worker in its logs. */
  workerId: number;
}

export interface WeightsMessage {
  type: 'weights';
  /** Identifies these weights; tasks name the version they are for. */
  version: number;
  weights: Weights;
}

export interface TaskMessage {
  type: 'task';
  /** Unique per coordinator run; the result must echo it. */
  task: number;
  /** Version of the weights to compute with: the last `weights` message the worker received. */
  version: number;
  /** Training-set indices of the slice. */
  indices: Uint32Array;
}

export interface ResultMessage {
  type: 'result';
  task: number;
  sums: ExactSums;
  /**
   * When not null, the pixel rows of W the slice touched, ascending: only these rows of `sums.gW`
   * were sent (every other row is zero). A slice of a few images touches a third of the rows, so
   * this cuts the bytes of a small-batch step. Decoded results always carry the full gW.
   */
  rows: Uint16Array | null;
}

export interface ByeMessage {
  type: 'bye';
  reason: string;
  message: string;
}

export type WorkerMessage = HelloMessage | ResultMessage;
export type CoordinatorMessage = WelcomeMessage | WeightsMessage | TaskMessage | ByeMessage;
export type Message = WorkerMessage | CoordinatorMessage;
