// Watch an in-process run: its monitor, fed by train()'s hooks, behind the same dashboard a
// coordinator serves (the live page, /status, /metrics), on a loopback port of its own. Open the
// address it prints while it trains.
//
//   node watch-in-process.mjs [model.json]
import { kernelFingerprint, KERNEL_ID, loadTrainingData, parseConfig, saveModel, train } from '@mnist-lr/core';
import { RunMonitor, serveDashboard } from '@mnist-lr/watch';

// The origin's config_1 for one epoch, completed (the monitor reads its defaults too).
const config = parseConfig({ num_epoches: 1, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'config_1');
const data = loadTrainingData();

const monitor = new RunMonitor({ name: 'config_1', path: 'configs/config_1.json', config, dataset: data.fingerprint, kernel: kernelFingerprint(), engine: 'in-process', trainImages: data.train.count });
const server = await serveDashboard({ monitor });
console.log(`dashboard: ${server.url}`);

// The loop is synchronous within an epoch: every 100 ms a step hands the event loop a turn, so
// that the dashboard answers while it trains.
const result = await train({ config, data, hooks: monitor.hooks({}, { yieldMs: 100 }) });
monitor.finished({}, null);

// What a browser or a script sees at the end, from the dashboard itself.
const status = await (await fetch(new URL('status', server.url))).json();
const last = status.epochs.at(-1);
console.log(`status: ${status.state}, epoch ${last.epoch}: test accuracy ${last.testAccuracy.toFixed(4)}`);
await server.close();

const out = process.argv[2] ?? 'model.json';
saveModel(out, { name: 'config_1', config, dataset: data.fingerprint, kernel: KERNEL_ID, epochs: 1, testLossSum: last.testLossSum, testAccuracy: last.testAccuracy, weights: result.weights });
console.log(`model written to ${out}`);
