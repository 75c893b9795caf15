/**
 * The timed cells of the step benchmarks: in-process training and a coordinator computing its
 * share beside local workers of each transport, all timed from the training loop's onStep hook
 * (StepTimer).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { initialState, LocalGradientSource, runTraining, splitTrainingSet, type TrainConfig, type TrainingData } from '@mnist-lr/core/engine';
import { Coordinator } from '@mnist-lr/coordinator';
import { workerThreadEntry } from '@mnist-lr/worker';
import { TOKEN_ENV } from '../token.js';
import { BIN } from './origin.js';
import { StepTimer, TrafficWindow, type Cell } from './step-timer.js';

/** How local workers reach the coordinator. */
export type Transport = 'shared memory' | 'thread WebSocket' | 'process WebSocket';

/**
 * The cores a cell's process kept busy on average: its CPU time over the wall time of the same
 * steps. Two workers cannot step faster than in-process by much more than the ratio of these; on
 * a machine shared with other work the process often gets about one core however many threads it
 * runs, and then no number of workers helps (the 2-thread floor shows it in the same run).
 */
export function coresUsed(c: Cell): string {
  return (c.cpuMs / c.meanMs).toFixed(2);
}

/**
 * In-process training as `train --workers 0` runs it: core's training loop with the local kernel
 * (evaluation after each epoch included), timed from its onStep hook exactly as the workers' cells.
 */
export async function inProcess(data: TrainingData, config: TrainConfig, budgetMs: number): Promise<Cell> {
  const abort = new AbortController();
  const timer = new StepTimer(budgetMs, () => abort.abort());
  const source = new LocalGradientSource(data.train);
  const state = initialState(config);
  // As core's train() does: the weights live in the kernel's memory.
  state.weights = source.residentWeights(state.weights);
  await runTraining({
    config,
    data,
    split: splitTrainingSet(data.train.count, config),
    source,
    state,
    hooks: { onStep: () => timer.step() },
    signal: abort.signal,
  });
  return timer.cell();
}

/**
 * Steps of `train --workers n` as the command runs them: a coordinator computing its share and
 * n − 1 local workers over `transport` (threads with a shared-memory slot, threads without one,
 * or `mnist-lr worker` processes); `verify` as --verify. Timed after a warm-up.
 */
export async function withWorkers(data: TrainingData, config: TrainConfig, n: number, budgetMs: number, verify = 0, transport: Transport = 'shared memory'): Promise<Cell> {
  const token = randomBytes(16).toString('hex');
  const abort = new AbortController();
  let coordinator: Coordinator | undefined = undefined;
  const traffic = new TrafficWindow(() => coordinator!.traffic);
  const timer = new StepTimer(budgetMs, () => abort.abort(), traffic.edge);
  coordinator = await Coordinator.start({ config, data, token, computeShare: true, minWorkers: n - 1, workerWaitMs: 30_000, verify, signal: abort.signal, hooks: { onStep: () => timer.step() } });
  const threads: Worker[] = [];
  const processes: ChildProcess[] = [];
  for (let i = 0; i < n - 1; i++) {
    if (transport === 'process WebSocket') {
      processes.push(spawn(process.execPath, [BIN, 'worker', '--connect', coordinator.url, '--quiet'], { env: { ...process.env, [TOKEN_ENV]: token }, stdio: 'ignore' }));
    } else {
      const slot = transport === 'shared memory' ? coordinator.threadSlot() : undefined;
      threads.push(new Worker(workerThreadEntry(), { workerData: { url: coordinator.url, token, label: `bench-${i}`, data, slot } }));
    }
  }
  try {
    await coordinator.run();
  } finally {
    await coordinator.close();
    await Promise.all(threads.map((t) => t.terminate()));
    for (const p of processes) p.kill('SIGKILL');
  }
  const perWorkerStep = Math.max(1, n - 1) * timer.count;
  const { down, up } = traffic.bytes;
  return { ...timer.cell(), bytesDown: down / perWorkerStep, bytesUp: up / perWorkerStep };
}
