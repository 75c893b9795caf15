/**
 * `train --workers N`: N parties compute each batch. The coordinator, on a free loopback port with
 * a fresh random token, computes one share in its own thread (as rank 0 of PyTorch DDP does) and
 * N − 1 local workers compute the others: threads, whose tasks and results go through shared
 * memory once they have joined over WebSocket, or child processes (--worker-mode process) over
 * WebSocket. The workers run the same code as workers on other machines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { TrainingData } from '@mnist-lr/core/engine';
import type { ThreadSlot } from '@mnist-lr/core/protocol';
import type { ThreadMessage, WorkerOutcome } from '@mnist-lr/worker';

import type { TrainingEngine, WatchedCoordinator } from './engine.js';
import { TOKEN_ENV } from '../token.js';
import { verifySummary } from './verify-summary.js';

export type WorkerMode = 'thread' | 'process';

export interface LocalWorkersOptions {
  workers: number;
  mode: WorkerMode;
  dataDir?: string;
  /** Lines worth showing (a worker lost, a slice reassigned). */
  log: (line: string) => void;
  /** The number of connected workers, whenever it changes. */
  onWorkers?: (count: number) => void;
  /** Called once the coordinator listens: the run watches it. */
  onListening?: (coordinator: WatchedCoordinator) => void;
  /** The fraction of slices computed twice and compared (--verify). Default 0. */
  verify?: number;
}

const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

export function localWorkersEngine(options: LocalWorkersOptions): TrainingEngine {
  const n = options.workers;
  const others = n - 1;
  const kind = options.mode === 'thread' ? `thread${others === 1 ? '' : 's'} over shared memory` : `process${others === 1 ? '' : 'es'} over WebSocket`;
  return {
    description: others === 0 ? 'coordinator computing alone' : `coordinator and ${others} local worker ${kind}`,
    workers: n,
    threads: options.mode === 'thread',
    async run({ config, data, hooks, state, signal }) {
      // Loaded here, not with the module: `train --workers 0` needs neither ws nor msgpackr.
      const [{ Coordinator }, { workerThreadEntry }] = await Promise.all([import('@mnist-lr/coordinator'), import('@mnist-lr/worker')]);
      const token = randomBytes(32).toString('hex');
      const coordinator = await Coordinator.start({
        config,
        data,
        token,
        computeShare: true,
        // Training starts at once, on this thread; each worker joins the step after it is up.
        // Verification needs the workers, whose results it checks: then the run waits for them.
        minWorkers: options.verify ? others : 0,
        verify: options.verify ?? 0,
        dataDir: options.dataDir,
        state,
        hooks,
        signal,
        onWorkers: options.onWorkers,
        // Joins are expected here; departures and refusals are worth a line.
        log: (line) => {
          if (!/ joined from /.test(line)) options.log(line);
        },
      });
      options.onListening?.(coordinator);
      options.log(`dashboard: ${coordinator.dashboardUrl}  (also /status, /metrics, /healthz, /readyz)`);
      if (coordinator.joinUrl) options.log(`join from a browser: ${coordinator.joinUrl}`);
      const stops: Array<() => Promise<void>> = [];
      for (let i = 0; i < others; i++) {
        stops.push(options.mode === 'thread' ? startThread(workerThreadEntry(), coordinator.url, token, i, data, coordinator.threadSlot(), options) : startProcess(coordinator.url, token, i, options));
      }
      const stopWorkers = (): Promise<unknown> => Promise.all(stops.map((stop) => stop()));
      const release = async (): Promise<void> => {
        await coordinator.close();
        await stopWorkers();
      };
      try {
        const state = await coordinator.run();
        // The run told the workers it is complete: end them now, before the run writes its
        // outputs, so that a thread's isolate (tens of MiB) is not still held while the plots
        // are drawn, which load vega and resvg (about 30 MiB more).
        await stopWorkers();
        const verified = verifySummary(coordinator, options.verify ?? 0);
        if (verified) options.log(verified);
        // The coordinator's port serves the dashboard until the run's outputs are shown on it.
        return { weights: state.weights, history: state.history, release };
      } catch (e) {
        await release();
        throw e;
      }
    },
  };
}

/**
 * A worker's own account of its routine life: joining, a line per epoch of the slices it computed,
 * and the end of training. The coordinator's log and the run's own lines already tell these (and
 * local worker processes run --quiet); every other line of a worker is worth showing.
 */
const ROUTINE = /^(joined |epoch \d+: [\d,]+ slices? done|training is complete$)/;

/** How a worker stops when nothing went wrong: training completed, or it was told to stop. */
const NORMAL_ENDS: ReadonlySet<WorkerOutcome['reason']> = new Set(['RUN_COMPLETE', 'ABORTED']);

/**
 * A worker thread allocates few objects but many short-lived ArrayBuffers (frames), freed only when
 * a young-generation collection finds them dead (see gc-tuning.ts). V8 lets a thread's young
 * generation grow to 16 MB, which these objects take hundreds of steps to fill; 2 MB keeps each
 * thread's dead frames to a few MB instead of tens. Only the young generation is bounded: the
 * old one keeps V8's limit, so a thread never runs out of memory for this.
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 2 };

function startThread(entry: string, url: string, token: string, i: number, data: TrainingData, slot: ThreadSlot, options: LocalWorkersOptions): () => Promise<void> {
  const name = `worker thread ${i + 1}`;
  // The data's arrays live in SharedArrayBuffers (core's loadTrainingData): the thread reads this
  // process's copy instead of loading its own. Its slot moves its tasks to shared memory.
  const worker = new Worker(entry, { workerData: { url, token, label: `thread ${i + 1}`, data, slot }, resourceLimits: THREAD_LIMITS });
  // Whether the thread already said, or showed, why it ended; and whether we are ending it.
  let told = false;
  let stopping = false;
  worker.on('message', (m: ThreadMessage) => {
    if (m.type === 'log') {
      if (!ROUTINE.test(m.line)) options.log(`${name}: ${m.line}`);
      return;
    }
    told = true;
    // A refusal (token, protocol, dataset, kernel) or a coordinator it could not reach.
    if (!NORMAL_ENDS.has(m.outcome.reason)) options.log(`${name} stopped: ${m.outcome.message}`);
  });
  worker.on('error', (e) => {
    told = true;
    options.log(`${name} failed: ${e.message}`);
  });
  worker.on('exit', (code) => {
    if (!told && !stopping) options.log(`${name} ended with exit code ${code} before training completed`);
  });
  return async () => {
    stopping = true;
    await worker.terminate();
  };
}

function startProcess(url: string, token: string, i: number, options: LocalWorkersOptions): () => Promise<void> {
  const args = [BIN, 'worker', '--connect', url, '--label', `process ${i + 1}`, '--quiet'];
  if (options.dataDir) args.push('--data-dir', options.dataDir);
  // The token travels in the environment, not on the command line where `ps` shows it.
  const child: ChildProcess = spawn(process.execPath, args, { env: { ...process.env, [TOKEN_ENV]: token }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('exit', (code, sig) => {
    if (code !== 0 && code !== null) options.log(`worker process ${i + 1} exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`);
    else if (sig && sig !== 'SIGTERM') options.log(`worker process ${i + 1} was killed by ${sig}`);
  });
  return async () => {
    // Workers end by themselves when the run completes; do not wait on one forever.
    const timer = setTimeout(() => child.kill('SIGTERM'), 5000);
    await exited;
    clearTimeout(timer);
  };
}
