/**
 * Entry point of a worker running as a worker thread of a local `mnist-lr train --workers N`.
 * workerData: { url, token, label?, dataDir?, data? }. `data`, when given, is the parent's
 * training data, whose arrays in SharedArrayBuffers arrive as views of the same memory: the
 * thread then loads nothing. Posts { type: 'log', line } and finally { type: 'exit', outcome } to
 * the parent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainingData } from '@mnist-lr/core';
import { runWorker } from './worker.js';

const { url, token, label, dataDir, data } = workerData as { url: string; token: string; label?: string; dataDir?: string; data?: TrainingData };
const outcome = await runWorker({ url, token, label, dataDir, data, log: (line) => parentPort?.postMessage({ type: 'log', line }) });
parentPort?.postMessage({ type: 'exit', outcome });
