/**
 * Entry point of a worker running as a worker thread of a local `mnist-lr train --workers N`.
 * workerData: { url, token, label?, dataDir?, data?, slot? }. `data`, when given, is the parent's
 * training data, whose arrays in SharedArrayBuffers arrive as views of the same memory: the
 * thread then loads nothing. `slot`, when given, is the coordinator's threadSlot() for this
 * thread: its tasks and results then go through shared memory. Posts ThreadMessages (thread-messages.ts) to the parent:
 * { type: 'log', line } for each event and finally { type: 'exit', outcome }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TrainingData } from '@mnist-lr/core/engine';
import type { ThreadSlot } from '@mnist-lr/core/protocol';
import type { ThreadMessage } from './thread-messages.js';
import { runWorker } from './worker.js';

const post = (m: ThreadMessage): void => parentPort?.postMessage(m);
const { url, token, label, dataDir, data, slot } = workerData as { url: string; token: string; label?: string; dataDir?: string; data?: TrainingData; slot?: ThreadSlot };
const outcome = await runWorker({ url, token, label, dataDir, data, slot, log: (line) => post({ type: 'log', line }) });
post({ type: 'exit', outcome });
