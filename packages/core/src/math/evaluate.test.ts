import { beforeAll, describe, expect, it } from 'vitest';

import { loadTrainingData } from '../data/training-data.js';
import type { TrainingData } from '../train/engine.js';
import { createKernel } from './choose-kernel.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { DELTA_SCALE } from './exact.js';
import { exp } from './exp.js';
import { log } from './log.js';
import { zeroWeights, type Weights } from './model.js';
import type { SparseImages } from './sparse.js';

let data: TrainingData;
let weights: Weights;
beforeAll(() => {
  data = loadTrainingData();
  // Weights with every sign and magnitude a trained model has, reproducibly.
  weights = zeroWeights();
  for (let j = 0; j < weights.W.length; j++) weights.W[j] = Math.sin(j * 12.9898) * 0.3;
  for (let k = 0; k < 10; k++) weights.b[k] = Math.cos(k) * 0.1;
});

/** The logits of image i as DESIGN.md §2 orders them: ascending pixels, integer values, one division by 255. */
function logitsOf(w: Weights, images: SparseImages, i: number): Float64Array {
  const z = new Float64Array(10);
  for (let k = 0; k < 10; k++) {
    let acc = 0;
    for (let q = images.offsets[i]!; q < images.offsets[i + 1]!; q++) acc += w.W[images.pixels[q]! * 10 + k]! * images.values[q]!;
    z[k] = acc / 255 + w.b[k]!;
  }
  return z;
}

/** evaluate() spelled out, one class at a time: the first maximum, exp and log of the kernel. */
function reference(images: SparseImages, indices: number[]): { lossSum: number; confusion: Uint32Array; predictions: number[] } {
  const confusion = new Uint32Array(100);
  const predictions: number[] = [];
  let lossSum = 0;
  for (const i of indices) {
    const z = logitsOf(weights, images, i);
    const y = images.labels[i]!;
    let pred = 0;
    for (let k = 1; k < 10; k++) if (z[k]! > z[pred]!) pred = k;
    const max = z[pred]!;
    let sum = 0;
    for (let k = 0; k < 10; k++) sum += exp(z[k]! - max);
    lossSum += log(sum) - (z[y]! - max);
    confusion[10 * y + pred]!++;
    predictions.push(pred);
  }
  return { lossSum, confusion, predictions };
}

describe('evaluate', () => {
  it('gives the loss sum of the forward arithmetic bit for bit, and the same predictions', () => {
    const all = Array.from({ length: data.test.count }, (_, i) => i);
    const want = reference(data.test, all);
    const got = evaluate(weights, data.test);
    expect(got.lossSum).toBe(want.lossSum);
    expect(got.confusion).toEqual(want.confusion);
    expect(got.correct).toBe(Array.from({ length: 10 }, (_, k) => want.confusion[11 * k]!).reduce((a, b) => a + b, 0));
  });

  it('evaluates a subset given by indices', () => {
    const some = [9999, 3, 17, 4242];
    const got = evaluate(weights, data.test, some);
    expect(got.count).toBe(4);
    expect(got.lossSum).toBe(reference(data.test, some).lossSum);
  });

  it('refuses an index beyond the images, or not an index, naming it', () => {
    expect(() => evaluate(weights, data.test, [0, 10_000])).toThrow(/sample index 10000 is not one of the 10000 images/);
    expect(() => evaluate(weights, data.test, [0.5])).toThrow(/sample index 0.5/);
  });
});

describe('Kernel.evaluate: WebAssembly and JS', () => {
  /** Weights scaled by `scale`: from near-uniform probabilities to logits hundreds apart. */
  function scaled(scale: number): Weights {
    const w = zeroWeights();
    for (let j = 0; j < w.W.length; j++) w.W[j] = weights.W[j]! * scale;
    for (let k = 0; k < 10; k++) w.b[k] = weights.b[k]! * scale;
    return w;
  }

  function expectSame(got: Evaluation, want: Evaluation): void {
    expect(Object.is(got.lossSum, want.lossSum), `lossSum ${got.lossSum} vs ${want.lossSum}`).toBe(true);
    expect(got.correct).toBe(want.correct);
    expect(got.count).toBe(want.count);
    expect(got.confusion).toEqual(want.confusion);
  }

  it('give the same bits at every scale of weights, and evaluate() gives them', () => {
    const wasm = createKernel(data.test, 'wasm');
    const js = createKernel(data.test, 'js');
    for (const scale of [0, 1e-3, 1, 30, 1000]) {
      expectSame(wasm.evaluate(scaled(scale)), js.evaluate(scaled(scale)));
      expectSame(evaluate(scaled(scale), data.test), js.evaluate(scaled(scale)));
    }
  });

  it('give the same bits on a subset of the training set, as a validation split is evaluated', () => {
    const some = Array.from({ length: 6000 }, (_, t) => (t * 7919) % data.train.count);
    const wasm = createKernel(data.train, 'wasm');
    const js = createKernel(data.train, 'js');
    expectSame(wasm.evaluate(weights, some), js.evaluate(weights, some));
    expectSame(wasm.evaluate(weights, []), js.evaluate(weights, []));
  });

  it.each(['wasm', 'js'] as const)('share the forward pass of compute() (%s): each sample\'s loss is the rounded loss of training', (name) => {
    const kernel = createKernel(data.train, name);
    const w = scaled(3);
    for (let t = 0; t < 300; t++) {
      const i = (t * 7919) % data.train.count;
      const { sums } = kernel.compute(Uint32Array.of(i), w, 1);
      const ev = kernel.evaluate(w, [i]);
      expect(sums.loss, `image ${i}`).toBe(Math.round(ev.lossSum * DELTA_SCALE));
      expect(sums.correct).toBe(ev.correct);
    }
  });

  it('compute() after evaluate() with other weights computes with its own again', () => {
    const kernel = createKernel(data.train, 'wasm');
    const batch = Uint32Array.from({ length: 100 }, (_, t) => t * 13);
    const before = kernel.compute(batch, weights, 7).sums.loss;
    kernel.evaluate(scaled(30), [1, 2, 3]);
    expect(kernel.compute(batch, weights, 7).sums.loss).toBe(before);
  });

  it('reads the loader\'s training images in place, with one scratch slot, and takes a long subset in pieces', () => {
    const memory = data.train.memory!;
    const fresh = { ...data.train }; // the same arrays: a data set no kernel has been made for
    const before = memory.buffer.byteLength;
    const all = Array.from({ length: data.train.count }, (_, t) => (t * 7919) % data.train.count);
    expectSame(evaluate(weights, fresh, all), createKernel(fresh, 'js').evaluate(weights, all));
    expect(memory.buffer.byteLength - before).toBeLessThanOrEqual(3 * 65536);
    // In place, not a copy: a label changed in the shared memory changes what it counts.
    const label = fresh.labels[0]!;
    try {
      fresh.labels[0] = (label + 1) % 10;
      const got = evaluate(weights, fresh, [0]);
      expect(got.confusion[10 * fresh.labels[0]! + reference(fresh, [0]).predictions[0]!]).toBe(1);
    } finally {
      fresh.labels[0] = label;
    }
  });
});
