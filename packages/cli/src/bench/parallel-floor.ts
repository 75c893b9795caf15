/**
 * The floor of a data-parallel step on this machine, now: `threads` threads compute a contiguous
 * share of each batch each, with the same kernel, woken and joined through shared memory
 * (Atomics), while the main thread sleeps and then adds their sums and updates the weights as a
 * coordinator does. No sockets, no encoding, no weight copies: what any data-parallel scheme of
 * threads on these cores could at best step at. Its speed-up over in-process is the most the
 * workers can show at that moment; on a machine shared with other work it is well below the
 * number of cores, which is why the benchmark prints it beside the workers' own.
 */
import { Worker } from 'node:worker_threads';
import { addSums, applyUpdate, CLASSES, emptySums, epochOrder, PIXELS, splitTrainingSet, type TrainConfig, type TrainingData } from '@mnist-lr/core/engine';

import { FLOOR_DONE, FLOOR_STEP, FLOOR_STOP, type FloorThreadData } from './parallel-floor-shared.js';
import { StepTimer, type Cell } from './step-timer.js';

const W_BYTES = PIXELS * CLASSES * 8;
const B_BYTES = CLASSES * 8;
/**
 * How long the main thread sleeps for no thread finishing before it gives up: a dead or stuck
 * thread cannot say so while this thread sleeps in Atomics.wait (its 'error' and 'exit' events
 * wait for the event loop), so without a bound the bench would hang. A step takes milliseconds.
 */
const STALL_MS = 10_000;

export async function parallelFloor(data: TrainingData, config: TrainConfig, threads: number, budgetMs: number): Promise<Cell> {
  const B = config.batch_size;
  const order = epochOrder(config.seed, 0, splitTrainingSet(data.train.count, config).train);
  const shared = new SharedArrayBuffer(order.byteLength);
  new Uint32Array(shared).set(order);
  const control = new SharedArrayBuffer(8);
  const ctl = new Int32Array(control);
  const weights = new SharedArrayBuffer(W_BYTES + B_BYTES);
  const w = { W: new Float64Array(weights, 0, PIXELS * CLASSES), b: new Float64Array(weights, W_BYTES, CLASSES) };
  const parts = Array.from({ length: threads }, () => new SharedArrayBuffer(W_BYTES + B_BYTES));
  const partSums = parts.map((s) => ({ gW: new Float64Array(s, 0, PIXELS * CLASSES), gb: new Float64Array(s, W_BYTES, CLASSES), loss: 0, correct: 0, count: 0 }));
  const entry = new URL('./parallel-floor-thread.js', import.meta.url);
  const workers = parts.map((sums, part) => {
    const workerData: FloorThreadData & { data: TrainingData } = { data, order: shared, batch: B, part, parts: threads, control, weights, sums };
    return new Worker(entry, { workerData });
  });
  try {
    await Promise.all(workers.map((t) => new Promise((resolve, reject) => t.once('message', resolve).once('error', reject))));
    const total = emptySums();
    let running = true;
    const timer = new StepTimer(budgetMs, () => (running = false));
    for (let step = 1; running; step++) {
      Atomics.store(ctl, FLOOR_DONE, 0);
      Atomics.store(ctl, FLOOR_STEP, step);
      Atomics.notify(ctl, FLOOR_STEP);
      // The main thread sleeps while the threads compute, as a coordinator waiting for results does.
      for (let done = Atomics.load(ctl, FLOOR_DONE); done < threads; done = Atomics.load(ctl, FLOOR_DONE)) {
        if (Atomics.wait(ctl, FLOOR_DONE, done, STALL_MS) === 'timed-out') {
          throw new Error(`${threads - done} parallel-floor thread(s) did not finish step ${step} within ${STALL_MS / 1000} s: dead or stuck`);
        }
      }
      total.gW.fill(0);
      total.gb.fill(0);
      for (const s of partSums) addSums(total, s, null);
      applyUpdate(w, null, total, B, config.learning_rate, config, null);
      timer.step();
    }
    return timer.cell();
  } finally {
    Atomics.store(ctl, FLOOR_STEP, FLOOR_STOP);
    Atomics.notify(ctl, FLOOR_STEP);
    await Promise.all(workers.map((t) => t.terminate()));
  }
}
