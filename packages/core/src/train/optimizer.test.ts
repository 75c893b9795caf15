import { describe, expect, it, vi } from 'vitest';
import { loadTrainingData } from '../data/training-data.js';
import { DELTA_SCALE, emptySums, type ExactSums } from '../math/exact.js';
import { accumulate } from '../math/kernel.js';
import { cloneWeights, zeroWeights, type Weights } from '../math/model.js';
import { Rng } from '../math/rng.js';
import { emptyRowSet } from '../math/rows.js';
import { CLASSES } from '../math/shape.js';
import type { TrainConfig } from '../types.js';
import { WasmKernel } from '../math/wasm/wasm-kernel.js';
import { applyUpdate } from './optimizer.js';

const B = 4;

function config(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    num_epoches: 1,
    batch_size: B,
    learning_rate: 0.5,
    learning_decay: 0,
    decay_factor: 0.75,
    momentum: 0,
    mu: 0.5,
    seed: 0,
    validation_split: 0,
    weight_decay: 0,
    ...overrides,
  };
}

/**
 * Sums whose mean gradient (over a batch of B) is gW0 at W[0], gW7 at W[7] and gb0 at b[0], 0
 * elsewhere: sum = 255·2²⁴·B·g for W, 2²⁴·B·g for b. With B = 4 and dyadic g every value below
 * is exact in binary, so the hand arithmetic is compared with toBe.
 */
function sums(g: { w0: number; w7?: number; b0: number }): ExactSums {
  const s = emptySums();
  s.gW[0] = 255 * DELTA_SCALE * B * g.w0;
  s.gW[7] = 255 * DELTA_SCALE * B * (g.w7 ?? 0);
  s.gb[0] = DELTA_SCALE * B * g.b0;
  s.count = B;
  return s;
}

/** Every entry of W and b is 1. */
function ones(): Weights {
  const w = zeroWeights();
  w.W.fill(1);
  w.b.fill(1);
  return w;
}

/** Entries other than W[0], W[7] and b[0] must still be `value`. */
function expectRestIs(w: Weights, value: number): void {
  let wrong = 0;
  for (let i = 0; i < w.W.length; i++) if (i !== 0 && i !== 7 && !Object.is(w.W[i], value)) wrong++;
  for (let k = 1; k < CLASSES; k++) if (!Object.is(w.b[k], value)) wrong++;
  expect(wrong).toBe(0);
}

describe('applyUpdate: plain SGD', () => {
  it('w ← w − lr·g, by hand over three steps', () => {
    const cfg = config({ momentum: 0, learning_rate: 0.5 });
    const w = ones();
    const lr = 0.5;
    // Step 1: g = 0.25 (W[0]), −0.5 (W[7]), 0.125 (b[0]).
    applyUpdate(w, null, sums({ w0: 0.25, w7: -0.5, b0: 0.125 }), B, lr, cfg, null);
    expect(w.W[0]).toBe(1 - 0.5 * 0.25); // 0.875
    expect(w.W[7]).toBe(1 + 0.5 * 0.5); // 1.25
    expect(w.b[0]).toBe(1 - 0.5 * 0.125); // 0.9375
    expect(w.W[0]).toBe(0.875);
    expect(w.W[7]).toBe(1.25);
    expect(w.b[0]).toBe(0.9375);
    // Step 2: g = −0.5, 0.25, −1.
    applyUpdate(w, null, sums({ w0: -0.5, w7: 0.25, b0: -1 }), B, lr, cfg, null);
    expect(w.W[0]).toBe(1.125); // 0.875 + 0.25
    expect(w.W[7]).toBe(1.125); // 1.25 − 0.125
    expect(w.b[0]).toBe(1.4375); // 0.9375 + 0.5
    // Step 3 with a smaller learning rate (after a decay): lr = 0.25, g = 0.5, 0, 0.25.
    applyUpdate(w, null, sums({ w0: 0.5, b0: 0.25 }), B, 0.25, cfg, null);
    expect(w.W[0]).toBe(1); // 1.125 − 0.125
    expect(w.W[7]).toBe(1.125);
    expect(w.b[0]).toBe(1.375); // 1.4375 − 0.0625
    expectRestIs(w, 1);
  });

  it('divides by the batch size it is given (the smaller last batch)', () => {
    const w = ones();
    // Sums of 4·g over a batch of 2 samples: the mean gradient is twice g.
    applyUpdate(w, null, sums({ w0: 0.25, b0: 0.5 }), 2, 0.5, config(), null);
    expect(w.W[0]).toBe(0.75); // 1 − 0.5·0.5
    expect(w.b[0]).toBe(0.5); // 1 − 0.5·1
  });

  it('uses the lr argument, not config.learning_rate', () => {
    const w = ones();
    applyUpdate(w, null, sums({ w0: 1, b0: 1 }), B, 0.125, config({ learning_rate: 0.5 }), null);
    expect(w.W[0]).toBe(0.875);
    expect(w.b[0]).toBe(0.875);
  });
});

describe('applyUpdate: momentum (origin: v ← mu·v + lr·g; w ← w − v)', () => {
  it('by hand over three steps, with the learning rate changing at step 3', () => {
    const cfg = config({ momentum: 1, mu: 0.5 });
    const w = ones();
    const v = zeroWeights();
    const mu = 0.5;
    // Step 1, lr = 0.5, g1 = 0.25 (W[0]) and 0.5 (b[0]):
    //   v1 = lr·g1 = 0.125,                 w1 = 1 − 0.125 = 0.875
    //   vb1 = 0.5·0.5 = 0.25,                b1 = 1 − 0.25 = 0.75
    applyUpdate(w, v, sums({ w0: 0.25, b0: 0.5 }), B, 0.5, cfg, null);
    expect(v.W[0]).toBe(0.5 * 0.25);
    expect(w.W[0]).toBe(0.875);
    expect(v.b[0]).toBe(0.25);
    expect(w.b[0]).toBe(0.75);
    // Step 2, lr = 0.5, g2 = −0.5 (W[0]) and 0 (b[0]):
    //   v2 = mu·v1 + lr·g2 = 0.0625 − 0.25 = −0.1875,   w2 = 0.875 + 0.1875 = 1.0625
    //   vb2 = 0.5·0.25 + 0 = 0.125,                     b2 = 0.75 − 0.125 = 0.625
    applyUpdate(w, v, sums({ w0: -0.5, b0: 0 }), B, 0.5, cfg, null);
    expect(v.W[0]).toBe(mu * 0.125 + 0.5 * -0.5);
    expect(v.W[0]).toBe(-0.1875);
    expect(w.W[0]).toBe(1.0625);
    expect(v.b[0]).toBe(0.125);
    expect(w.b[0]).toBe(0.625);
    // Step 3, lr = 0.25, g3 = 0.125 (W[0]) and −1 (b[0]):
    //   v3 = 0.5·(−0.1875) + 0.25·0.125 = −0.09375 + 0.03125 = −0.0625,  w3 = 1.0625 + 0.0625 = 1.125
    //   vb3 = 0.5·0.125 + 0.25·(−1) = 0.0625 − 0.25 = −0.1875,           b3 = 0.625 + 0.1875 = 0.8125
    // (The form v ← mu·v + g; w ← w − lr·v would give w3 = 1.078125: it differs once lr changes.)
    applyUpdate(w, v, sums({ w0: 0.125, b0: -1 }), B, 0.25, cfg, null);
    expect(v.W[0]).toBe(-0.0625);
    expect(w.W[0]).toBe(1.125);
    expect(v.b[0]).toBe(-0.1875);
    expect(w.b[0]).toBe(0.8125);
    // Entries with a zero gradient throughout: velocity stays 0, weight stays 1.
    expectRestIs(w, 1);
    expect(v.W.every((x, i) => i === 0 || x === 0)).toBe(true);
  });

  it('needs a velocity buffer', () => {
    expect(() => applyUpdate(ones(), null, sums({ w0: 1, b0: 1 }), B, 0.5, config({ momentum: 1 }), null)).toThrow(/velocity/);
  });

  it('ignores the row set (all of W moves with momentum)', () => {
    const cfg = config({ momentum: 1, mu: 0.5 });
    const w = ones();
    const v = zeroWeights();
    v.W.fill(0.25); // a velocity left from earlier steps, on every row
    const rows = emptyRowSet(); // says no row was touched
    applyUpdate(w, v, sums({ w0: 0, b0: 0 }), B, 0.5, cfg, rows);
    // v = 0.5·0.25 + 0 = 0.125 everywhere; w = 1 − 0.125.
    expect(v.W.every((x) => x === 0.125)).toBe(true);
    expect(w.W.every((x) => x === 0.875)).toBe(true);
  });
});

describe('applyUpdate: L2 weight decay (g ← g + λ·W on W, not on b)', () => {
  it('plain SGD, by hand', () => {
    const cfg = config({ weight_decay: 0.25 });
    const w = ones();
    // g = 0.5 at W[0], 0 elsewhere; b[0] gets 0.5 too.
    //   W[0] = 1 − 0.5·(0.5 + 0.25·1) = 0.625
    //   W[i] = 1 − 0.5·(0 + 0.25·1) = 0.875 for the others
    //   b[0] = 1 − 0.5·0.5 = 0.75, other b unchanged (no decay on b)
    applyUpdate(w, null, sums({ w0: 0.5, b0: 0.5 }), B, 0.5, cfg, null);
    expect(w.W[0]).toBe(0.625);
    expect(w.W[1]).toBe(0.875);
    expect(w.W.subarray(1).every((x) => x === 0.875)).toBe(true);
    expect(w.b[0]).toBe(0.75);
    expect(w.b.subarray(1).every((x) => x === 1)).toBe(true);
  });

  it('plain SGD with a row set still decays the untouched rows', () => {
    const cfg = config({ weight_decay: 0.25 });
    const w = ones();
    const rows = emptyRowSet();
    rows.stamp[0] = rows.generation;
    rows.list[0] = 0;
    rows.size = 1; // only row 0 (W[0..9]) touched
    applyUpdate(w, null, sums({ w0: 0.5, b0: 0 }), B, 0.5, cfg, rows);
    expect(w.W[0]).toBe(0.625);
    expect(w.W.subarray(1).every((x) => x === 0.875)).toBe(true);
  });

  it('momentum, by hand over two steps', () => {
    const cfg = config({ momentum: 1, mu: 0.5, weight_decay: 0.25 });
    const w = ones();
    const v = zeroWeights();
    // Step 1 (lr 0.5, g = 0.5 at W[0]):
    //   v1 = 0.5·(0.5 + 0.25·1) = 0.375,  w1 = 1 − 0.375 = 0.625
    //   others: v1 = 0.5·(0 + 0.25) = 0.125, w1 = 0.875
    applyUpdate(w, v, sums({ w0: 0.5, b0: 0 }), B, 0.5, cfg, null);
    expect(v.W[0]).toBe(0.375);
    expect(w.W[0]).toBe(0.625);
    expect(v.W[1]).toBe(0.125);
    expect(w.W[1]).toBe(0.875);
    // Step 2 (lr 0.5, g = 0):
    //   v2 = 0.5·0.375 + 0.5·(0 + 0.25·0.625) = 0.1875 + 0.078125 = 0.265625,  w2 = 0.625 − 0.265625 = 0.359375
    //   others: v2 = 0.5·0.125 + 0.5·(0.25·0.875) = 0.0625 + 0.109375 = 0.171875, w2 = 0.875 − 0.171875 = 0.703125
    applyUpdate(w, v, sums({ w0: 0, b0: 0 }), B, 0.5, cfg, null);
    expect(v.W[0]).toBe(0.265625);
    expect(w.W[0]).toBe(0.359375);
    expect(v.W[1]).toBe(0.171875);
    expect(w.W[1]).toBe(0.703125);
    // b has no gradient and no decay.
    expect(w.b.every((x) => x === 1)).toBe(true);
    expect(v.b.every((x) => x === 0)).toBe(true);
  });
});

describe('applyUpdate: rows-only path', () => {
  it('gives the same bits as the dense path for plain SGD on real batches', () => {
    const data = loadTrainingData();
    const rng = new Rng(77);
    const start = zeroWeights();
    for (let i = 0; i < start.W.length; i++) start.W[i] = (rng.next() / 2 ** 32 - 0.5) * 0.01;
    for (let k = 0; k < CLASSES; k++) start.b[k] = (rng.next() / 2 ** 32 - 0.5) * 0.1;
    const cfg = config({ batch_size: 10 });
    for (const size of [1, 10, 100]) {
      const sparse = cloneWeights(start);
      const dense = cloneWeights(start);
      // Several steps, so that a row the set missed would show up as a difference.
      for (let step = 0; step < 5; step++) {
        const batch = Array.from({ length: size }, () => rng.below(data.train.count));
        const s = emptySums();
        const rows = emptyRowSet();
        accumulate(sparse, data.train, batch, 0, batch.length, s, rows);
        expect(rows.size).toBeGreaterThan(0);
        expect(rows.size).toBeLessThan(784);
        applyUpdate(sparse, null, s, batch.length, 0.0025, cfg, rows);
        const t = emptySums();
        accumulate(dense, data.train, batch, 0, batch.length, t, null);
        applyUpdate(dense, null, t, batch.length, 0.0025, cfg, null);
      }
      let differ = 0;
      for (let i = 0; i < start.W.length; i++) if (!Object.is(sparse.W[i], dense.W[i])) differ++;
      for (let k = 0; k < CLASSES; k++) if (!Object.is(sparse.b[k], dense.b[k])) differ++;
      expect(differ).toBe(0);
      // And the step did move the weights.
      let moved = 0;
      for (let i = 0; i < start.W.length; i++) if (sparse.W[i] !== start.W[i]) moved++;
      expect(moved).toBeGreaterThan(0);
    }
  });
});

describe('applyUpdate: resident weights (an in-process trainer\'s, in the kernel\'s memory)', () => {
  it('runs in the module, with the bits of the JS loop, step after step', () => {
    const data = loadTrainingData();
    const rng = new Rng(78);
    const start = zeroWeights();
    for (let i = 0; i < start.W.length; i++) start.W[i] = (rng.next() / 2 ** 32 - 0.5) * 0.01;
    for (let k = 0; k < CLASSES; k++) start.b[k] = (rng.next() / 2 ** 32 - 0.5) * 0.1;
    const cfg = config({ batch_size: 10 });
    const kernel = new WasmKernel(data.train);
    const resident = kernel.residentWeights(start);
    expect(resident.W).not.toBe(start.W);
    const inModule = vi.spyOn(kernel, 'updateResident');
    const plain = cloneWeights(start);
    for (let step = 0; step < 50; step++) {
      const size = [1, 10, 100][step % 3]!;
      const batch = Uint32Array.from({ length: size }, () => rng.below(data.train.count));
      const { sums, rows } = kernel.compute(batch, resident, step);
      applyUpdate(plain, null, sums, batch.length, 0.0025, cfg, rows);
      applyUpdate(resident, null, sums, batch.length, 0.0025, cfg, rows);
      let differ = 0;
      for (let i = 0; i < start.W.length; i++) if (!Object.is(resident.W[i], plain.W[i])) differ++;
      for (let k = 0; k < CLASSES; k++) if (!Object.is(resident.b[k], plain.b[k])) differ++;
      expect(differ, `step ${step}`).toBe(0);
    }
    // Only the resident weights went to the module; the plain copy took the JS loop.
    expect(inModule).toHaveBeenCalledTimes(50);
    expect(inModule.mock.results.every((r) => r.value === true)).toBe(true);
    let moved = 0;
    for (let i = 0; i < start.W.length; i++) if (resident.W[i] !== start.W[i]) moved++;
    expect(moved).toBeGreaterThan(1000);
  });

  it('keeps the kernel from overwriting them with other weights', () => {
    const data = loadTrainingData();
    const kernel = new WasmKernel(data.train);
    kernel.residentWeights(zeroWeights());
    expect(() => kernel.compute(Uint32Array.of(0), zeroWeights(), 1)).toThrow(/resident weights/);
  });
});
