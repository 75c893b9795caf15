import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { encodeModel, kernelFingerprint, loadConfig, type TrainConfig, type TrainingData, type Weights } from '@mnist-lr/core/engine';
import { workerThreadEntry } from '@mnist-lr/worker';
import type { ThreadSlot } from '@mnist-lr/core/protocol';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built command line (tests spawn real processes of it; `pnpm test` builds first). */
export const CLI = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));

export function originConfig(name: string, overrides: Partial<TrainConfig> = {}): TrainConfig {
  return { ...loadConfig(`${ROOT}/configs/${name}.json`).config, ...overrides };
}

/** A model file's bytes for these weights, as `mnist-lr train` would write them. */
export function modelBytes(name: string, config: TrainConfig, data: TrainingData, weights: Weights, epochs: number): string {
  return encodeModel({ name, config, dataset: data.fingerprint, kernel: kernelFingerprint(), epochs, testLossSum: 0, testAccuracy: 0, weights });
}

/** First index where two weight sets differ in any bit (Object.is), or -1. */
export function firstDifference(a: Weights, b: Weights): number {
  for (let i = 0; i < a.W.length; i++) if (!Object.is(a.W[i], b.W[i])) return i;
  for (let k = 0; k < a.b.length; k++) if (!Object.is(a.b[k], b.b[k])) return a.W.length + k;
  return -1;
}

export interface ThreadWorker {
  worker: Worker;
  /** Resolves with the worker's outcome message (or an error). */
  done: Promise<{ reason: string; message: string; tasks: number }>;
  lines: string[];
}

/**
 * A real worker thread running the built worker entry. `data`: the coordinator's training data,
 * shared (the thread then loads none); `slot`: a shared-memory slot of the coordinator
 * (Coordinator.threadSlot), which moves the thread's tasks to shared memory and needs `data`.
 */
export function startThreadWorker(url: string, token: string, label: string, shared: { data?: TrainingData; slot?: ThreadSlot } = {}): ThreadWorker {
  const worker = new Worker(workerThreadEntry(), { workerData: { url, token, label, ...shared } });
  const lines: string[] = [];
  const done = new Promise<{ reason: string; message: string; tasks: number }>((resolve, reject) => {
    worker.on('message', (m: { type: string; line?: string; outcome?: { reason: string; message: string; tasks: number } }) => {
      if (m.type === 'log') lines.push(m.line!);
      if (m.type === 'exit') resolve(m.outcome!);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => resolve({ reason: 'EXITED', message: `thread exited with ${code}`, tasks: 0 }));
  });
  return { worker, done, lines };
}

export interface ProcessWorker {
  child: ChildProcess;
  /** Resolves with exit code and everything printed. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
  output: () => string;
}

/** A real `mnist-lr worker` process; the token travels in the environment, never on the command line. */
export function startProcessWorker(url: string, token: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): ProcessWorker {
  const child = spawn(process.execPath, [CLI, 'worker', '--connect', url, ...extraArgs], {
    env: { ...process.env, MNIST_LR_TOKEN: token, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, output }));
  });
  return { child, done, output: () => output };
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves with `p`, or rejects after `ms` naming `what`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
