import { beforeAll, describe, expect, it } from 'vitest';

import { loadTrainingData } from '../data/training-data.js';
import type { TrainingData } from '../train/engine.js';
import { argmax, evaluate, evaluateJs, logits } from './evaluate.js';
import { exp } from './exp.js';
import { log } from './log.js';
import { zeroWeights, type Weights } from './model.js';
import { wasmEvaluator } from './wasm/wasm-evaluate.js';

let data: TrainingData;
let weights: Weights;
beforeAll(() => {
  data = loadTrainingData();
  // Weights with every sign and magnitude a trained model has, reproducibly.
  weights = zeroWeights();
  for (let j = 0; j < weights.W.length; j++) weights.W[j] = Math.sin(j * 12.9898) * 0.3;
  for (let k = 0; k < 10; k++) weights.b[k] = Math.cos(k) * 0.1;
});

/** evaluate() spelled out through logits(), the function predictions and the kernel agree with. */
function reference(indices: number[]): { lossSum: number; confusion: Uint32Array } {
  const z = new Float64Array(10);
  const confusion = new Uint32Array(100);
  let lossSum = 0;
  for (const i of indices) {
    logits(weights, data.test, i, z);
    const y = data.test.labels[i]!;
    const pred = argmax(z);
    const max = z[pred]!;
    let sum = 0;
    for (let k = 0; k < 10; k++) sum += exp(z[k]! - max);
    lossSum += log(sum) - (z[y]! - max);
    confusion[10 * y + pred]!++;
  }
  return { lossSum, confusion };
}

describe('evaluate', () => {
  it('gives the loss sum of the logits() arithmetic bit for bit, and the same predictions', () => {
    const all = Array.from({ length: data.test.count }, (_, i) => i);
    const want = reference(all);
    const got = evaluate(weights, data.test);
    expect(got.lossSum).toBe(want.lossSum);
    expect(got.confusion).toEqual(want.confusion);
    expect(got.correct).toBe(Array.from({ length: 10 }, (_, k) => want.confusion[11 * k]!).reduce((a, b) => a + b, 0));
  });

  it('evaluates a subset given by indices', () => {
    const some = [9999, 3, 17, 4242];
    const got = evaluate(weights, data.test, some);
    expect(got.count).toBe(4);
    expect(got.lossSum).toBe(reference(some).lossSum);
  });
});

/** The prediction for training image i (logits() and argmax, the arithmetic evaluate() uses). */
function argmaxOf(i: number): number {
  const z = new Float64Array(10);
  logits(weights, data.train, i, z);
  return argmax(z);
}

describe('evaluate in WebAssembly', () => {
  /** Weights scaled by `scale`: from near-uniform probabilities to logits hundreds apart. */
  function scaled(scale: number): Weights {
    const w = zeroWeights();
    for (let j = 0; j < w.W.length; j++) w.W[j] = weights.W[j]! * scale;
    for (let k = 0; k < 10; k++) w.b[k] = weights.b[k]! * scale;
    return w;
  }

  function expectSame(got: ReturnType<typeof evaluate>, want: ReturnType<typeof evaluate>): void {
    expect(Object.is(got.lossSum, want.lossSum), `lossSum ${got.lossSum} vs ${want.lossSum}`).toBe(true);
    expect(got.correct).toBe(want.correct);
    expect(got.count).toBe(want.count);
    expect(got.confusion).toEqual(want.confusion);
  }

  it('is the one evaluate() runs here, and gives the JS loop\'s bits at every scale of weights', () => {
    expect(wasmEvaluator(data.test)).not.toBeNull();
    for (const scale of [0, 1e-3, 1, 30, 1000]) expectSame(evaluate(scaled(scale), data.test), evaluateJs(scaled(scale), data.test));
  });

  it('gives the JS loop\'s bits on a subset of the training set, as a validation split is evaluated', () => {
    const some = Array.from({ length: 6000 }, (_, t) => (t * 7919) % data.train.count);
    expectSame(evaluate(weights, data.train, some), evaluateJs(weights, data.train, some));
    expectSame(evaluate(weights, data.train, []), evaluateJs(weights, data.train, []));
  });

  it('reads the loader\'s training images in place, with one scratch slot, and takes a long subset in pieces', () => {
    const memory = data.train.memory!;
    const fresh = { ...data.train }; // the same arrays: a data set the evaluators have not seen
    const before = memory.buffer.byteLength;
    const all = Array.from({ length: data.train.count }, (_, t) => (t * 7919) % data.train.count);
    expectSame(evaluate(weights, fresh, all), evaluateJs(weights, fresh, all));
    expect(memory.buffer.byteLength - before).toBeLessThanOrEqual(3 * 65536);
    // In place, not a copy: a label changed in the shared memory changes what it counts.
    const label = fresh.labels[0]!;
    try {
      fresh.labels[0] = (label + 1) % 10;
      const got = evaluate(weights, fresh, [0]);
      expect(got.confusion[10 * fresh.labels[0]! + argmaxOf(0)]).toBe(1);
    } finally {
      fresh.labels[0] = label;
    }
  });

  it('refuses an index beyond the images, naming it', () => {
    expect(() => evaluate(weights, data.test, [0, 10_000])).toThrow(/sample index 10000/);
  });
});
