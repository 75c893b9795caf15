/**
 * A thread of the parallel floor (parallel-floor.ts): computes its share of each step's batch
 * with the weights in shared memory when the main thread bumps the step counter, writes its sums
 * to its own shared buffer and counts itself done. No sockets, no encoding, no copies of weights.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LocalGradientSource, type TrainingData } from '@mnist-lr/core/engine';
import { CLASSES, PIXELS } from '@mnist-lr/core/engine';

import { FLOOR_DONE, FLOOR_STEP, FLOOR_STOP, type FloorThreadData } from './parallel-floor-shared.js';

const { data, order, batch, part, parts, control, weights, sums } = workerData as FloorThreadData & { data: TrainingData };
const ctl = new Int32Array(control);
const W = { W: new Float64Array(weights, 0, PIXELS * CLASSES), b: new Float64Array(weights, PIXELS * CLASSES * 8, CLASSES) };
const gW = new Float64Array(sums, 0, PIXELS * CLASSES);
const gb = new Float64Array(sums, PIXELS * CLASSES * 8, CLASSES);
const source = new LocalGradientSource(data.train);
const indices = new Uint32Array(order);
parentPort!.postMessage('ready');
let seen = 0;
for (;;) {
  Atomics.wait(ctl, FLOOR_STEP, seen);
  const step = Atomics.load(ctl, FLOOR_STEP);
  if (step === FLOOR_STOP) break;
  seen = step;
  // The same contiguous share of the step's batch as a coordinator's slice.
  const from = (step * batch) % (indices.length - batch + 1);
  const out = source.compute(indices.subarray(from + Math.floor((part * batch) / parts), from + Math.floor(((part + 1) * batch) / parts)), W, step);
  gW.set(out.sums.gW);
  gb.set(out.sums.gb);
  Atomics.add(ctl, FLOOR_DONE, 1);
  Atomics.notify(ctl, FLOOR_DONE);
}
