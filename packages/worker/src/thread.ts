/**
 * Entry point of a worker running as a worker thread of a local `mnist-lr train --workers N`.
 * workerData: { url, token, label?, dataDir? }. Posts { type: 'log', line } and finally
 * { type: 'exit', outcome } to the parent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runWorker } from './worker.js';

const { url, token, label, dataDir } = workerData as { url: string; token: string; label?: string; dataDir?: string };
const outcome = await runWorker({ url, token, label, dataDir, log: (line) => parentPort?.postMessage({ type: 'log', line }) });
parentPort?.postMessage({ type: 'exit', outcome });
