/**
 * The thread of the hand-off floor (spin-floor.ts): spins until the main thread starts a step,
 * computes the second half of its batch with its own unchanged weights, and says so.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalGradientSource, zeroWeights, type TrainingData } from '@mnist-lr/core/engine';

import { SPIN_DONE, SPIN_STEP, SPIN_STOP, type SpinThreadData } from './spin-floor-shared.js';

const { data, order, batch, control } = workerData as SpinThreadData & { data: TrainingData };
const ctl = new Int32Array(control);
const indices = new Uint32Array(order);
const source = new LocalGradientSource(data.train);
const weights = source.residentWeights(zeroWeights());
const half = batch - (batch >> 1);
parentPort!.postMessage('ready');
let seen = 0;
for (;;) {
  const step = Atomics.load(ctl, SPIN_STEP);
  if (step === SPIN_STOP) break;
  if (step === seen) continue;
  seen = step;
  const from = (step * batch) % (indices.length - batch + 1);
  source.compute(indices.subarray(from + half, from + batch), weights, 0);
  Atomics.store(ctl, SPIN_DONE, step);
}
