import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainingData } from '../data/training-data.js';
import { batchSums } from '../train/source.js';
import type { TrainingData } from '../train/engine.js';
import { DELTA_SCALE, addSums, emptySums, type ExactSums } from './exact.js';
import { evaluate } from './evaluate.js';
import { forward, forwardPass, OWN_EXP_LOG } from './forward.js';
import { accumulate } from './kernel.js';
import { cloneWeights, zeroWeights, type Weights } from './model.js';
import { Rng } from './rng.js';
import { addRows, clearRows, emptyRowSet } from './rows.js';
import { CLASSES, PIXELS } from './shape.js';
import type { SparseImages } from './sparse.js';

let data: TrainingData;
let train: SparseImages;
beforeAll(() => {
  data = loadTrainingData();
  train = data.train;
});

/** Uniform double in [0, 1) from the seeded generator (never Math.random). */
function uniform(rng: Rng): number {
  return rng.next() / 4294967296;
}

/** W and b uniform in [−scale, scale) (b in [−bScale, bScale)), drawn from `seed`. */
function randomWeights(seed: number, scale: number, bScale = scale): Weights {
  const rng = new Rng(seed, 99, 0);
  const w = zeroWeights();
  for (let i = 0; i < w.W.length; i++) w.W[i] = (2 * uniform(rng) - 1) * scale;
  for (let k = 0; k < CLASSES; k++) w.b[k] = (2 * uniform(rng) - 1) * bScale;
  return w;
}

function randomIndices(seed: number, n: number): Uint32Array {
  const rng = new Rng(seed, 98, 0);
  const out = new Uint32Array(n);
  for (let t = 0; t < n; t++) out[t] = rng.below(train.count);
  return out;
}

/** The set of pixels that are nonzero in at least one image of `batch`. */
function nonzeroPixels(images: SparseImages, batch: ArrayLike<number>): Set<number> {
  const set = new Set<number>();
  for (let t = 0; t < batch.length; t++) {
    const i = batch[t]!;
    for (let q = images.offsets[i]!; q < images.offsets[i + 1]!; q++) set.add(images.pixels[q]!);
  }
  return set;
}

/** Describes the first difference in bits between two sets of sums, or null when identical. */
function bitDifference(a: ExactSums, b: ExactSums): string | null {
  for (let i = 0; i < a.gW.length; i++) {
    if (!Object.is(a.gW[i], b.gW[i])) return `gW[${i}]: ${a.gW[i]} vs ${b.gW[i]}`;
  }
  for (let k = 0; k < CLASSES; k++) {
    if (!Object.is(a.gb[k], b.gb[k])) return `gb[${k}]: ${a.gb[k]} vs ${b.gb[k]}`;
  }
  if (!Object.is(a.loss, b.loss)) return `loss: ${a.loss} vs ${b.loss}`;
  if (a.correct !== b.correct) return `correct: ${a.correct} vs ${b.correct}`;
  if (a.count !== b.count) return `count: ${a.count} vs ${b.count}`;
  return null;
}

/** Softmax of the forward pass of image i: p_k = e_k / Σ e. */
function probabilities(w: Weights, images: SparseImages, i: number): Float64Array {
  const f = forwardPass();
  forward(w, images, i, f, OWN_EXP_LOG);
  return f.e.map((e) => e / f.sum);
}

/** The unquantised mean gradient in float64, from the forward pass's softmax (the math of DESIGN.md §2). */
function analyticGradient(w: Weights, images: SparseImages, batch: ArrayLike<number>): { gW: Float64Array; gb: Float64Array } {
  const gW = new Float64Array(PIXELS * CLASSES);
  const gb = new Float64Array(CLASSES);
  const B = batch.length;
  for (let t = 0; t < B; t++) {
    const i = batch[t]!;
    const z = probabilities(w, images, i);
    z[images.labels[i]!]! -= 1;
    for (let q = images.offsets[i]!; q < images.offsets[i + 1]!; q++) {
      const x = images.values[q]! / 255;
      const o = images.pixels[q]! * CLASSES;
      for (let k = 0; k < CLASSES; k++) gW[o + k]! += (x * z[k]!) / B;
    }
    for (let k = 0; k < CLASSES; k++) gb[k]! += z[k]! / B;
  }
  return { gW, gb };
}

describe('accumulate: gradient', () => {
  const cases = [
    { name: 'one sample', size: 1, seed: 11 },
    { name: 'seven samples', size: 7, seed: 12 },
  ];
  for (const { name, size, seed } of cases) {
    it(`matches central finite differences of the mean loss (${name})`, () => {
      const batch = randomIndices(seed, size);
      const w = randomWeights(seed, 0.02, 0.5);
      const sums = batchSums(w, train, batch);
      expect(sums.count).toBe(size);
      const meanLoss = (v: Weights): number => evaluate(v, train, batch).loss;

      /** Central difference of the mean loss along one parameter, with the step actually taken. */
      const fd = (array: 'W' | 'b', idx: number, h: number): number => {
        const plus = cloneWeights(w);
        const minus = cloneWeights(w);
        plus[array][idx] = w[array][idx]! + h;
        minus[array][idx] = w[array][idx]! - h;
        return (meanLoss(plus) - meanLoss(minus)) / (plus[array][idx]! - minus[array][idx]!);
      };
      const close = (kernel: number, numeric: number): void => {
        expect(Math.abs(kernel - numeric)).toBeLessThanOrEqual(1e-6 + 1e-6 * Math.abs(numeric));
      };
      const analytic = analyticGradient(w, train, batch);
      // Each quantised δ is off by at most 2⁻²⁵ and x ≤ 1, so the mean is off by at most 2⁻²⁵.
      const quantum = 2 ** -25 + 1e-15;

      // ~30 entries of W on pixels that are nonzero in the batch (where the gradient is not trivially 0).
      const pixels = [...nonzeroPixels(train, batch)].sort((a, b) => a - b);
      const rng = new Rng(seed, 97, 0);
      let large = 0;
      for (let n = 0; n < 30; n++) {
        const idx = pixels[rng.below(pixels.length)]! * CLASSES + rng.below(CLASSES);
        const g = sums.gW[idx]! / (255 * DELTA_SCALE * size);
        close(g, fd('W', idx, 1e-4));
        expect(Math.abs(g - analytic.gW[idx]!)).toBeLessThanOrEqual(quantum);
        if (Math.abs(g) > 1e-3) large++;
      }
      // The comparison means something only if the gradient is not ~0 everywhere.
      expect(large).toBeGreaterThan(5);

      for (let k = 0; k < CLASSES; k++) {
        const g = sums.gb[k]! / (DELTA_SCALE * size);
        close(g, fd('b', k, 1e-4));
        expect(Math.abs(g - analytic.gb[k]!)).toBeLessThanOrEqual(quantum);
      }
      // Σ_k δ_k = 0 per sample; after rounding each of the ten, |Σ_k d_k| ≤ 5 per sample.
      let total = 0;
      for (let k = 0; k < CLASSES; k++) total += sums.gb[k]!;
      expect(Math.abs(total)).toBeLessThanOrEqual(5 * size);
    });
  }

  it('sums are integers (exact on the 2⁻²⁴ grid)', () => {
    const batch = randomIndices(5, 50);
    const sums = batchSums(randomWeights(5, 0.05), train, batch);
    expect(sums.gW.every(Number.isInteger)).toBe(true);
    expect(sums.gb.every(Number.isInteger)).toBe(true);
    expect(Number.isInteger(sums.loss)).toBe(true);
  });

  it('at zero weights: every sample predicts class 0 (first maximum), loss is log 10', () => {
    const batch = randomIndices(6, 200);
    const sums = batchSums(zeroWeights(), train, batch);
    let zeros = 0;
    for (const i of batch) if (train.labels[i] === 0) zeros++;
    expect(sums.correct).toBe(zeros);
    expect(sums.loss).toBe(200 * Math.round(Math.log(10) * DELTA_SCALE));
    // δ_k = 0.1 − [k = y]; round(0.1·2²⁴) = 1677722 and round(−0.9·2²⁴) = −15099494.
    for (let k = 0; k < CLASSES; k++) {
      let ofClass = 0;
      for (const i of batch) if (train.labels[i] === k) ofClass++;
      expect(sums.gb[k]).toBe((200 - ofClass) * 1677722 + ofClass * -15099494);
    }
  });
});

describe('softmax and the kernel at logits of ±10⁴', () => {
  /** Softmax of `logits` through the forward pass (W = 0: the logits are b). */
  const softmax = (logits: number[]): Float64Array => probabilities({ W: zeroWeights().W, b: Float64Array.from(logits) }, train, 0);

  it('softmax gives finite probabilities summing to 1', () => {
    const z = softmax([1e4, -1e4, 0, 0, 0, 0, 0, 0, 0, 0]);
    for (const p of z) expect(Number.isFinite(p)).toBe(true);
    expect(z[0]).toBe(1);
    expect(z.reduce((s, p) => s + p, 0)).toBe(1);

    const low = softmax(new Array(10).fill(-1e4));
    for (const p of low) expect(p).toBeCloseTo(0.1, 15);

    const mixed = softmax([-1e4, 1e4 - 1, 1e4, 3, 0, 0, 0, 0, 0, 0]);
    expect(mixed[2]! / mixed[1]!).toBeCloseTo(Math.E, 12);
    expect(Math.abs(mixed.reduce((s, p) => s + p, 0) - 1)).toBeLessThan(1e-15);
  });

  it('bias of ±10⁴: exact loss 2·10⁴ for the sample whose class has −10⁴, 0 for the one with +10⁴', () => {
    // Sample a has label y, sample c has label c ≠ y; b_y = −10⁴, b_c = +10⁴, W = 0.
    const a = 0;
    const y = train.labels[a]!;
    let other = 1;
    while (train.labels[other] === y) other++;
    const c = train.labels[other]!;
    const w = zeroWeights();
    w.b[y] = -1e4;
    w.b[c] = 1e4;
    const sums = batchSums(w, train, [a, other]);
    expect(sums.loss).toBe(2e4 * DELTA_SCALE);
    expect(sums.correct).toBe(1);
    expect(sums.count).toBe(2);
    for (let k = 0; k < CLASSES; k++) {
      expect(sums.gb[k]).toBe(k === y ? -DELTA_SCALE : k === c ? DELTA_SCALE : 0);
    }
    // Only sample a has δ ≠ 0: −1 at y and +1 at c, so gW = ±pixel·2²⁴ on a's pixels, 0 elsewhere.
    const expected = new Float64Array(PIXELS * CLASSES);
    for (let q = train.offsets[a]!; q < train.offsets[a + 1]!; q++) {
      const o = train.pixels[q]! * CLASSES;
      expected[o + y] = -train.values[q]! * DELTA_SCALE;
      expected[o + c] = train.values[q]! * DELTA_SCALE;
    }
    let differ = 0;
    for (let i = 0; i < expected.length; i++) if (sums.gW[i] !== expected[i]) differ++;
    expect(differ).toBe(0);
    const ev = evaluate(w, train, [a, other]);
    expect(ev.lossSum).toBe(2e4);
    expect(ev.correct).toBe(1);
  });

  it('weights scaled so that the logits are ±10⁴: finite loss ≈ 2·10⁴ and finite sums', () => {
    const i = 3;
    const y = train.labels[i]!;
    const c = (y + 1) % CLASSES;
    let pixelSum = 0;
    for (let q = train.offsets[i]!; q < train.offsets[i + 1]!; q++) pixelSum += train.values[q]!;
    const w = zeroWeights();
    for (let q = train.offsets[i]!; q < train.offsets[i + 1]!; q++) {
      const o = train.pixels[q]! * CLASSES;
      w.W[o + y] = (-1e4 * 255) / pixelSum;
      w.W[o + c] = (1e4 * 255) / pixelSum;
    }
    const f = forwardPass();
    forward(w, train, i, f, OWN_EXP_LOG);
    const z = f.z;
    expect(z[y]).toBeCloseTo(-1e4, 6);
    expect(z[c]).toBeCloseTo(1e4, 6);

    // A batch with this sample and a few ordinary ones, whose logits are then also large.
    const batch = [i, 0, 1, 2, 4, 5];
    const sums = batchSums(w, train, batch);
    expect(sums.gW.every(Number.isFinite)).toBe(true);
    expect(sums.gb.every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(sums.loss)).toBe(true);

    const alone = batchSums(w, train, [i]);
    expect(Math.abs(alone.loss / DELTA_SCALE - (z[c]! - z[y]!))).toBeLessThanOrEqual(2 ** -25);
    expect(alone.loss / DELTA_SCALE).toBeCloseTo(2e4, 6);
    expect(alone.gb[y]).toBe(-DELTA_SCALE);
    expect(alone.gb[c]).toBe(DELTA_SCALE);
    expect(alone.correct).toBe(0);
    const ev = evaluate(w, train, batch);
    expect(Number.isFinite(ev.lossSum)).toBe(true);
    expect(Math.abs(sums.loss / DELTA_SCALE - ev.lossSum)).toBeLessThanOrEqual(batch.length * 2 ** -25 + 1e-9);
  });
});

describe('accumulate: exact, order-independent sums (property)', () => {
  it('any split of a batch, summed part by part in any order, gives the same bits as one call', () => {
    const arb = fc.record({
      batch: fc.array(fc.integer({ min: 0, max: 59_999 }), { minLength: 1, maxLength: 300 }),
      weightSeed: fc.integer({ min: 0, max: 0xffffffff }),
      scale: fc.constantFrom(0.003, 0.03, 0.3),
      parts: fc.integer({ min: 1, max: 8 }),
      contiguous: fc.boolean(),
      splitSeed: fc.integer({ min: 0, max: 0xffffffff }),
    });
    let nontrivial = 0;
    fc.assert(
      fc.property(arb, ({ batch, weightSeed, scale, parts, contiguous, splitSeed }) => {
        const w = randomWeights(weightSeed, scale, 1);
        const order = Uint32Array.from(batch);
        const whole = batchSums(w, train, order);
        const rng = new Rng(splitSeed, 96, 0);

        const pieces: ExactSums[] = [];
        if (contiguous) {
          // parts − 1 cut points anywhere in [0, n] (empty parts included), summed via from..to.
          const cuts = [0, order.length];
          for (let p = 1; p < parts; p++) cuts.push(rng.below(order.length + 1));
          cuts.sort((a, b) => a - b);
          for (let p = 0; p + 1 < cuts.length; p++) {
            const s = emptySums();
            accumulate(w, train, order, cuts[p]!, cuts[p + 1]!, s, null);
            pieces.push(s);
          }
        } else {
          // Each sample to a random part; each part in a shuffled order.
          const members: number[][] = Array.from({ length: parts }, () => []);
          for (const i of batch) members[rng.below(parts)]!.push(i);
          for (const m of members) {
            for (let t = m.length - 1; t > 0; t--) {
              const j = rng.below(t + 1);
              [m[t], m[j]] = [m[j]!, m[t]!];
            }
            pieces.push(batchSums(w, train, m));
          }
        }
        // Add the parts in a random order.
        const total = emptySums();
        const sequence = pieces.map((_, k) => k);
        for (let t = sequence.length - 1; t > 0; t--) {
          const j = rng.below(t + 1);
          [sequence[t], sequence[j]] = [sequence[j]!, sequence[t]!];
        }
        for (const k of sequence) addSums(total, pieces[k]!);
        if (pieces.filter((p) => p.count > 0).length > 1) nontrivial++;

        expect(bitDifference(total, whole)).toBeNull();
        expect(total.count).toBe(batch.length);
      }),
      { numRuns: 150, seed: 20_240_601 },
    );
    // The property was exercised on real splits, not only on one-part batches.
    expect(nontrivial).toBeGreaterThan(50);
  });
});

describe('addSums by rows and addRows: how the coordinator adds sparse results', () => {
  it('the parts added by their touched rows give the bits and the rows of the whole batch', () => {
    const arb = fc.record({
      batch: fc.array(fc.integer({ min: 0, max: 59_999 }), { minLength: 1, maxLength: 60 }),
      weightSeed: fc.integer({ min: 0, max: 0xffffffff }),
      parts: fc.integer({ min: 1, max: 5 }),
    });
    fc.assert(
      fc.property(arb, ({ batch, weightSeed, parts }) => {
        const w = randomWeights(weightSeed, 0.03, 1);
        const order = Uint32Array.from(batch);
        const whole = emptySums();
        const wholeRows = emptyRowSet();
        accumulate(w, train, order, 0, order.length, whole, wholeRows);
        const total = emptySums();
        const union = emptyRowSet();
        for (let p = parts - 1; p >= 0; p--) {
          const s = emptySums();
          const r = emptyRowSet();
          accumulate(w, train, order, Math.floor((p * order.length) / parts), Math.floor(((p + 1) * order.length) / parts), s, r);
          const list = r.list.slice(0, r.size).sort();
          addSums(total, s, list);
          addRows(union, list);
        }
        expect(bitDifference(total, whole)).toBeNull();
        expect(union.size).toBe(wholeRows.size);
        expect(new Set(union.list.subarray(0, union.size))).toEqual(new Set(wholeRows.list.subarray(0, wholeRows.size)));
      }),
      { numRuns: 100, seed: 20_261_128 },
    );
  });
});

describe('accumulate: touched rows', () => {
  it('lists exactly the pixels nonzero in the batch; gW outside those rows is exactly 0', () => {
    const rows = emptyRowSet();
    const w = randomWeights(7, 0.05);
    for (const [seed, size] of [
      [21, 1],
      [22, 10],
      [23, 100],
    ] as const) {
      clearRows(rows);
      const batch = randomIndices(seed, size);
      const sums = emptySums();
      accumulate(w, train, batch, 0, batch.length, sums, rows);
      const listed = Array.from(rows.list.subarray(0, rows.size));
      const expected = nonzeroPixels(train, batch);
      expect(new Set(listed).size).toBe(listed.length); // no row twice
      expect(new Set(listed)).toEqual(expected);
      let nonzeroOutside = 0;
      for (let p = 0; p < PIXELS; p++) {
        if (expected.has(p)) continue;
        for (let k = 0; k < CLASSES; k++) if (!Object.is(sums.gW[p * CLASSES + k], 0)) nonzeroOutside++;
      }
      expect(nonzeroOutside).toBe(0);
      // The rows do not change the sums themselves.
      expect(bitDifference(sums, batchSums(w, train, batch))).toBeNull();
    }
  });

  it('keeps adding to the set across calls until it is cleared', () => {
    const rows = emptyRowSet();
    const w = zeroWeights();
    const first = randomIndices(31, 5);
    const second = randomIndices(32, 5);
    const sums = emptySums();
    accumulate(w, train, first, 0, first.length, sums, rows);
    accumulate(w, train, second, 0, second.length, sums, rows);
    const both = new Set([...nonzeroPixels(train, first), ...nonzeroPixels(train, second)]);
    expect(new Set(rows.list.subarray(0, rows.size))).toEqual(both);
    expect(rows.size).toBe(both.size);
    clearRows(rows);
    accumulate(w, train, second, 0, second.length, emptySums(), rows);
    expect(new Set(rows.list.subarray(0, rows.size))).toEqual(nonzeroPixels(train, second));
  });
});

describe('accumulate agrees with evaluate', () => {
  it('per-sample loss to 1e-6 and the same correct count, at random and at trained weights', () => {
    // Weights after 100 plain SGD steps of batch 100 (lr 0.1), so predictions are mostly right.
    const trained = zeroWeights();
    for (let s = 0; s < 100; s++) {
      const batch = randomIndices(1000 + s, 100);
      const g = batchSums(trained, train, batch);
      for (let i = 0; i < trained.W.length; i++) trained.W[i]! -= (0.1 * g.gW[i]!) / (255 * DELTA_SCALE * 100);
      for (let k = 0; k < CLASSES; k++) trained.b[k]! -= (0.1 * g.gb[k]!) / (DELTA_SCALE * 100);
    }
    const batch = randomIndices(41, 2000);
    for (const w of [randomWeights(42, 0.05, 1), trained]) {
      const sums = batchSums(w, train, batch);
      const ev = evaluate(w, train, batch);
      expect(ev.count).toBe(batch.length);
      expect(sums.correct).toBe(ev.correct);
      expect(Math.abs(sums.loss / DELTA_SCALE / batch.length - ev.loss)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(sums.loss / DELTA_SCALE - ev.lossSum)).toBeLessThanOrEqual(batch.length * 2 ** -25 + 1e-9);
    }
    expect(evaluate(trained, train, batch).accuracy).toBeGreaterThan(0.8);
  });
});
