/** @mnist-lr/worker: joins a coordinator and computes exact partial gradients with the core kernel. */
export { runWorker, assertCompleted, type WorkerOptions, type WorkerOutcome } from './worker.js';
export { DEFAULT_RETRY, backoffDelay, type RetryPolicy } from './transport/backoff.js';
import { createRequire } from 'node:module';

/** Absolute path of the worker-thread entry module (for `new Worker(...)`). */
export function workerThreadEntry(): string {
  return createRequire(import.meta.url).resolve('@mnist-lr/worker/thread');
}
export { coordinatorUrl } from './transport/url.js';
