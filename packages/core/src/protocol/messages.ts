import type { ExactSums } from '../math/exact.js';
import type { Weights } from '../math/model.js';

/**
 * The wire protocol: a discriminated union on `type`. Version 1.
 *
 *   worker → coordinator   hello, result
 *   coordinator → worker   welcome, task, bye
 *
 * After the HTTP upgrade (which carries the token), the worker sends `hello`; the coordinator
 * answers `welcome` or closes with a coded reason. Then the coordinator sends `task`s (sample
 * indices, plus the weights when they changed since that worker last saw them); the worker
 * answers each with a `result` holding the exact sums of that slice (DESIGN.md §2, §5).
 */
export const PROTOCOL_VERSION = 1;

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

export interface TaskMessage {
  type: 'task';
  /** Unique per coordinator run; the result must echo it. */
  task: number;
  /** Version of the weights to compute with. */
  version: number;
  /** The weights of `version`, or null when the worker already holds them. */
  weights: Weights | null;
  /** Training-set indices of the slice. */
  indices: Uint32Array;
}

export interface ResultMessage {
  type: 'result';
  task: number;
  sums: ExactSums;
}

export interface ByeMessage {
  type: 'bye';
  reason: string;
  message: string;
}

export type WorkerMessage = HelloMessage | ResultMessage;
export type CoordinatorMessage = WelcomeMessage | TaskMessage | ByeMessage;
export type Message = WorkerMessage | CoordinatorMessage;
