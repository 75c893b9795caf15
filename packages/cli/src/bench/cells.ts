/**
 * The timed cells of the step benchmarks: in-process training and a coordinator with local
 * worker threads, both timed from the training loop's onStep hook (StepTimer).
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { initialState, LocalGradientSource, runTraining, splitTrainingSet, type TrainConfig, type TrainingData } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { workerThreadEntry } from '@mnist-lr/worker';
import { StepTimer, type Cell } from './step-timer.js';

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
  await runTraining({
    config,
    data,
    split: splitTrainingSet(data.train.count, config),
    source: new LocalGradientSource(data.train),
    state: initialState(config),
    hooks: { onStep: () => timer.step() },
    signal: abort.signal,
  });
  return timer.cell();
}

/** Steps of a coordinator with `n` local worker threads, timed after a warm-up; `verify` as --verify. */
export async function withWorkers(data: TrainingData, config: TrainConfig, n: number, budgetMs: number, verify = 0): Promise<Cell> {
  const token = randomBytes(16).toString('hex');
  const abort = new AbortController();
  let from = { out: 0, in: 0 };
  let to = { out: 0, in: 0 };
  let coordinator: Coordinator | undefined = undefined;
  const timer = new StepTimer(
    budgetMs,
    () => abort.abort(),
    (starting) => {
      const t = coordinator!.traffic;
      if (starting) from = { out: t.bytesOut, in: t.bytesIn };
      else to = { out: t.bytesOut, in: t.bytesIn };
    },
  );
  coordinator = await Coordinator.start({ config, data, token, minWorkers: n, workerWaitMs: 30_000, verify, signal: abort.signal, hooks: { onStep: () => timer.step() } });
  const threads = Array.from({ length: n }, (_, i) => new Worker(workerThreadEntry(), { workerData: { url: coordinator.url, token, label: `bench-${i}` } }));
  try {
    await coordinator.run();
  } finally {
    await coordinator.close();
    await Promise.all(threads.map((t) => t.terminate()));
  }
  const perWorkerStep = n * timer.count;
  return { ...timer.cell(), bytesDown: (to.out - from.out) / perWorkerStep, bytesUp: (to.in - from.in) / perWorkerStep };
}
