// Host a coordinator in your own program, with two workers started in code as worker threads.
// The weights are those of an in-process run, bit for bit, whatever the number of workers.
//
//   node host-coordinator.mjs [model.json]
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { KERNEL_ID, loadTrainingData, saveModel } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { workerThreadEntry } from '@mnist-lr/worker';

const config = { num_epoches: 1, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 };
const data = loadTrainingData();
// Workers present this token when they connect; there is no default.
const token = randomBytes(32).toString('hex');

// Listens on 127.0.0.1 and a free port unless told otherwise; training waits for two workers.
const coordinator = await Coordinator.start({
  config,
  data,
  token,
  minWorkers: 2,
  hooks: { onEpoch: (m) => console.log(`epoch ${m.epoch}: test accuracy ${m.testAccuracy.toFixed(4)}`) },
  log: (line) => console.log(`coordinator: ${line}`),
});

// Each thread loads MNIST itself and joins over WebSocket, as a worker on another machine would.
const threads = ['a', 'b'].map(
  (label) => new Worker(workerThreadEntry(), { workerData: { url: coordinator.url, token, label } }),
);
for (const t of threads) {
  t.on('message', (m) => {
    if (m.type === 'exit') console.log(`worker: ${m.outcome.message}, ${m.outcome.tasks} slices`);
  });
}

try {
  const state = await coordinator.run();
  const last = state.history.at(-1);
  const out = process.argv[2] ?? 'model.json';
  saveModel(out, {
    name: 'config_1',
    config,
    dataset: data.fingerprint,
    kernel: KERNEL_ID,
    epochs: state.history.length,
    testLossSum: last.testLossSum,
    testAccuracy: last.testAccuracy,
    weights: state.weights,
  });
  console.log(`model written to ${out}`);
} finally {
  await coordinator.close();
  // A thread exits by itself once told the run is complete; wait for that.
  await Promise.all(threads.map((t) => new Promise((resolve) => t.once('exit', resolve))));
}
