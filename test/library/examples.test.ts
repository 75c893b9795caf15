import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, KERNEL_ID, loadMnist, loadModel, predict, prepareData, saveModel, train, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { firstDifference, originConfig } from '../helpers/cluster.js';
import { accuracyOf, EXAMPLES, runNode, writeOwnIdx } from '../helpers/examples.js';

// Every file in examples/ runs here as a reader runs it: `node FILE` in a folder of its own, the
// packages resolved from examples/node_modules as they would be from an installed project.

const dir = mkdtempSync(join(tmpdir(), 'mnist-lr-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const example = (name: string): string => join(EXAMPLES, name);

let data: TrainingData;
/** config_1 for one epoch, in this process: what every example's weights must equal. */
let reference: Weights;
beforeAll(async () => {
  data = prepareData(loadMnist());
  reference = (await train({ config: originConfig('config_1', { num_epoches: 1 }), data })).weights;
});

describe('examples/', () => {
  it('train-in-process.mjs trains config_1 from the seven origin keys to the in-process bits and the CLI\'s accuracy', async () => {
    const run = await runNode(example('train-in-process.mjs'), ['model.json'], { cwd: dir });
    expect(run.code, run.output).toBe(0);
    // One epoch of config_1 reaches 0.806 with `mnist-lr train --epochs 1` too.
    expect(accuracyOf(run.output)).toBeGreaterThan(0.8);
    expect(accuracyOf(run.output)).toBeLessThan(0.83);
    expect(firstDifference(loadModel(join(dir, 'model.json')).weights, reference)).toBe(-1);
  });

  it('host-coordinator.mjs, a coordinator with two worker threads, gives the in-process bits', async () => {
    const run = await runNode(example('host-coordinator.mjs'), ['distributed.json'], { cwd: dir });
    expect(run.code, run.output).toBe(0);
    expect(run.output.match(/worker: training is complete, \d+ slices/g)).toHaveLength(2);
    expect(firstDifference(loadModel(join(dir, 'distributed.json')).weights, reference)).toBe(-1);
  });

  it('worker.mjs joins a coordinator and computes to the in-process bits', async () => {
    const token = `example-${Date.now()}`;
    const coordinator = await Coordinator.start({ config: originConfig('config_1', { num_epoches: 1 }), data, token, workerWaitMs: 60_000 });
    try {
      const worker = runNode(example('worker.mjs'), [coordinator.url], { cwd: dir, env: { MNIST_LR_TOKEN: token } });
      const state = await coordinator.run();
      const run = await worker;
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain('RUN_COMPLETE: training is complete (600 slices)');
      expect(firstDifference(state.weights, reference)).toBe(-1);
    } finally {
      await coordinator.close();
    }
  });

  it('worker.mjs without a token says how to run it', async () => {
    const run = await runNode(example('worker.mjs'), ['ws://127.0.0.1:1'], { cwd: dir, env: { MNIST_LR_TOKEN: '' } });
    expect(run.code).toBe(2);
    expect(run.output).toContain('usage: MNIST_LR_TOKEN=TOKEN node worker.mjs ws://HOST:PORT');
  });

  it('predict.mjs loads a model and gives each image the label evaluation counts for it', async () => {
    const model = join(dir, 'predict.model.json');
    saveModel(model, { name: 'config_1', config: originConfig('config_1', { num_epoches: 1 }), dataset: data.fingerprint, kernel: KERNEL_ID, epochs: 1, testLossSum: 0, testAccuracy: 0, weights: reference });
    const run = await runNode(example('predict.mjs'), [model], { cwd: dir });
    expect(run.code, run.output).toBe(0);
    const lines = [...run.output.matchAll(/^test image (\d): predicted (\d), labelled (\d)$/gm)];
    expect(lines).toHaveLength(10);
    for (const [, i, predicted, label] of lines) {
      // The one count of evaluate()'s confusion matrix is at 10·label + prediction.
      expect(Number(predicted)).toBe(evaluate(reference, data.test, [Number(i)]).confusion.indexOf(1) % 10);
      expect(Number(label)).toBe(data.test.labels[Number(i)]);
    }
    expect(run.output).toMatch(/^test image 0: probability 0\.\d{3} for \d$/m);
  });

  it('watch-in-process.mjs serves its run\'s dashboard, whose /status ends with the run\'s epoch, and trains to the in-process bits', async () => {
    const run = await runNode(example('watch-in-process.mjs'), ['watched.json'], { cwd: dir });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
    const model = loadModel(join(dir, 'watched.json'));
    expect(run.output).toContain(`status: finished, epoch 1: test accuracy ${model.testAccuracy.toFixed(4)}`);
    expect(firstDifference(model.weights, reference)).toBe(-1);
  });

  it('train-own-idx.mjs trains on a folder of one\'s own IDX files, gzipped or not', async () => {
    const own = join(dir, 'own');
    mkdirSync(own);
    writeOwnIdx(own, loadMnist(), 6000, 1000);
    const run = await runNode(example('train-own-idx.mjs'), [own], { cwd: dir });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('6000 training and 1000 test images');
    expect(run.output.match(/^epoch \d: /gm)).toHaveLength(3);
    // A tenth of the training set, three epochs: well above chance, below the full set's 0.9.
    expect(accuracyOf(run.output)).toBeGreaterThan(0.8);
  });

  it('train-own-idx.mjs names the missing file when the folder lacks one', async () => {
    const run = await runNode(example('train-own-idx.mjs'), [join(dir, 'nowhere')], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/^error \[MNIST_MISSING_FILE\]: directory .*nowhere \(which does not exist\) has none of train-images-idx3-ubyte/m);
  });

  it('predict-image.mjs reads its drawn stroke as the library does, and batches', async () => {
    const model = join(dir, 'predict-model.json');
    const config = originConfig('config_1', { num_epoches: 1 });
    saveModel(model, { name: 'config_1', config, dataset: data.fingerprint, kernel: KERNEL_ID, epochs: 1, testLossSum: 0, testAccuracy: 0, weights: reference });
    const run = await runNode(example('predict-image.mjs'), [model], { cwd: dir });
    expect(run.code, run.output).toBe(0);
    // The same picture, built here: a dark 14×100 stroke on white paper, 120×160 RGBA.
    const pixels = new Uint8Array(120 * 160 * 4).fill(255);
    for (let y = 10; y < 110; y++) for (let x = 10; x < 24; x++) pixels.fill(30, (y * 120 + x) * 4, (y * 120 + x) * 4 + 3);
    const label = predict(reference, { width: 120, height: 160, channels: 4, data: pixels });
    expect(label).toBe(1);
    expect(run.output).toMatch(new RegExp(`^it reads ${label}, with probability 0\\.\\d{3}$`, 'm'));
    expect(run.output).toContain(`a batch: ${label}, ${predict(reference, new Uint8Array(784))}`);
  });
});
