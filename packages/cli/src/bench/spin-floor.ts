/**
 * The hand-off floor of a step split between two threads, as the shared-memory plane splits it:
 * this thread and one worker thread each compute half of every batch with the same kernel, and
 * hand the step over by spinning on Atomics, nothing else: no sums come back, no weights go out
 * (each thread keeps computing with its own, unchanged). So it is faster than any correct
 * data-parallel step of two threads: what is left between it and the plane is the bytes a step
 * must move (the touched rows of the sums one way, the changed rows of the weights the other).
 */
import { Worker } from 'node:worker_threads';
import { epochOrder, LocalGradientSource, splitTrainingSet, zeroWeights, type TrainConfig, type TrainingData } from '@mnist-lr/core/engine';

import { SPIN_DONE, SPIN_STEP, SPIN_STOP, type SpinThreadData } from './spin-floor-shared.js';
import { StepTimer, type Cell } from './step-timer.js';

/**
 * How long the main thread spins for the thread's half of a step before it gives up: a dead or
 * stuck thread cannot say so while this thread spins (its 'error' and 'exit' events wait for
 * the event loop), so without a bound the bench would hang. A half step takes milliseconds.
 */
const STALL_MS = 10_000;
/** Spins between looks at the clock: reading it every spin would slow the hand-off being measured. */
const SPINS_PER_LOOK = 4096;

export async function spinFloor(data: TrainingData, config: TrainConfig, budgetMs: number): Promise<Cell> {
  const B = config.batch_size;
  const order = epochOrder(config.seed, 0, splitTrainingSet(data.train.count, config).train);
  const shared = new SharedArrayBuffer(order.byteLength);
  const indices = new Uint32Array(shared);
  indices.set(order);
  const control = new SharedArrayBuffer(128);
  const ctl = new Int32Array(control);
  const workerData: SpinThreadData & { data: TrainingData } = { data, order: shared, batch: B, control };
  const thread = new Worker(new URL('./spin-floor-thread.js', import.meta.url), { workerData });
  try {
    await new Promise((resolve, reject) =>
      thread
        .once('message', resolve)
        .once('error', reject)
        .once('exit', (code) => reject(new Error(`the spin-floor thread exited (code ${code}) before it was ready`))),
    );
    const source = new LocalGradientSource(data.train);
    const weights = source.residentWeights(zeroWeights());
    const half = B - (B >> 1);
    let running = true;
    const timer = new StepTimer(budgetMs, () => (running = false));
    for (let step = 1; running; step++) {
      // The descriptor: a step number, from which the thread knows its half of the batch.
      Atomics.store(ctl, SPIN_STEP, step);
      const from = (step * B) % (indices.length - B + 1);
      source.compute(indices.subarray(from, from + half), weights, 0);
      for (let spins = 1, since = performance.now(); Atomics.load(ctl, SPIN_DONE) !== step; spins++) {
        if (spins % SPINS_PER_LOOK === 0 && performance.now() - since > STALL_MS) {
          throw new Error(`the spin-floor thread did not finish step ${step} within ${STALL_MS / 1000} s: it died or is stuck`);
        }
      }
      timer.step();
    }
    return timer.cell();
  } finally {
    Atomics.store(ctl, SPIN_STEP, SPIN_STOP);
    await thread.terminate();
  }
}
