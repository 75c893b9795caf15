import type { ExactSums } from '../math/exact.js';
import type { Weights } from '../math/model.js';

/**
 * The wire protocol: a discriminated union on `type`.
 *
 *   worker → coordinator   hello, result
 *   coordinator → worker   welcome, task, bye
 *
 * After the HTTP upgrade (which carries the token), the worker sends `hello`; the coordinator
 * answers `welcome` or closes with a coded reason. Then the coordinator sends `task`s (sample
 * indices); a task carries the weights it is for when the worker does not hold them yet (its
 * first task, and the first of every step), so a step is one message each way per worker. The
 * worker answers each task with a `result` holding the exact sums of that slice (DESIGN.md §2, §5).
 *
 * Bump the version with every change to a message's shape: a peer of another version is refused
 * at its hello with PROTOCOL_MISMATCH instead of failing on the first message it cannot read.
 * 2: weights travelled in their own message; results may carry only the touched rows.
 * 3: weights travel inside the task again: one message per worker and step instead of two, which
 *    costs a second encoding of the weights per step but saves a write and a wake-up per worker.
 * 4: hello's `kernel` is the kernel fingerprint (what the kernel computes on a fixed probe), no
 *    longer its name; the kernel has exp and log of its own.
 */
export const PROTOCOL_VERSION = 4;

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  /** sha256 fingerprint of the worker's four MNIST files. */
  dataset: string;
  /** Fingerprint of the worker's kernel (kernelFingerprint of core): KERNEL_ID and a hash of its outputs on a fixed probe. */
  kernel: string;
  /** A label for logs (host:pid or thread number). */
  worker: string;
  /**
   * A worker thread of the coordinator's own process: the proof of the shared-memory slot it was
   * given at spawn (TaskSlot.proof), asking to move its per-step traffic to shared memory. Optional:
   * absent from workers elsewhere, and ignored by coordinators that do not know it.
   */
  slot?: string;
  /**
   * The engine the worker runs in, as it names itself ("Node 20.20.2", "Bun 1.4.4", "Firefox 153"),
   * for the dashboard. Optional: absent from older workers, ignored by coordinators that do not
   * know it, and never trusted for anything (the kernel fingerprint decides who computes).
   */
  engine?: string;
}

export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  /** The id the coordinator will use for this worker in its logs. */
  workerId: number;
  /**
   * True when the coordinator accepted the hello's slot: tasks and results now go through that
   * shared-memory slot, and this connection carries only control traffic. Optional (absent: false).
   */
  sharedMemory?: boolean;
}

export interface TaskMessage {
  type: 'task';
  /** Unique per coordinator run; the result must echo it. */
  task: number;
  /** Version of the weights to compute with. */
  version: number;
  /** Training-set indices of the slice. */
  indices: Uint32Array;
  /**
   * The weights of `version`, when the worker does not hold them yet; null when the worker's last
   * weights are of `version`.
   */
  weights: Weights | null;
  /**
   * 0-based epoch of the step the slice belongs to, so a worker can report per epoch. Optional
   * and ignored by workers that do not know it, so it needs no new protocol version.
   */
  epoch?: number;
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
export type CoordinatorMessage = WelcomeMessage | TaskMessage | ByeMessage;
export type Message = WorkerMessage | CoordinatorMessage;
