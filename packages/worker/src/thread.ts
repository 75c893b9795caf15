/**
 * Entry point of a worker running as a worker thread of a local `mnist-lr train --workers N`.
 * workerData: { url, token, label?, dataDir? }. Posts ThreadMessages (thread-messages.ts) to the
 * parent: { type: 'log', line } for each event and finally { type: 'exit', outcome }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ThreadMessage } from './thread-messages.js';
import { runWorker } from './worker.js';

const post = (m: ThreadMessage): void => parentPort?.postMessage(m);
const { url, token, label, dataDir } = workerData as { url: string; token: string; label?: string; dataDir?: string };
const outcome = await runWorker({ url, token, label, dataDir, log: (line) => post({ type: 'log', line }) });
post({ type: 'exit', outcome });
