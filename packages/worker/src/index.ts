/**
 * @mnist-lr/worker: joins a coordinator and computes exact partial gradients with the core kernel,
 * in the caller's thread (`runWorker`) or in a worker thread (`workerThreadEntry`).
 */
import { createRequire } from 'node:module';

export { runWorker, type WorkerOptions, type WorkerOutcome } from './worker.js';
export type { RetryPolicy } from './transport/backoff.js';
export type { ThreadMessage } from './thread-messages.js';

/**
 * Absolute path of the worker-thread entry module, for `new Worker(workerThreadEntry(), { workerData })`
 * with `workerData: { url, token, label?, dataDir? }` (as in `runWorker`'s options). The thread posts
 * `{ type: 'log', line }` for each event and `{ type: 'exit', outcome }` (a WorkerOutcome) when it stops
 * (a ThreadMessage): listen to both, since a refusal is reported only in the `exit` message.
 */
export function workerThreadEntry(): string {
  return createRequire(import.meta.url).resolve('@mnist-lr/worker/thread');
}
export { coordinatorUrl } from './transport/url.js';
