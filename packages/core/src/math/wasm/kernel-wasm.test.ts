import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../config/schema.js';
import { loadTrainingData } from '../../data/training-data.js';
import { runTraining, type TrainingData } from '../../train/engine.js';
import { LocalGradientSource, batchSums, type BatchSums } from '../../train/source.js';
import { splitTrainingSet } from '../../train/split.js';
import { initialState } from '../../train/state.js';
import { train } from '../../train/trainer.js';
import type { TrainConfig } from '../../types.js';
import { cloneWeights, zeroWeights, type Weights } from '../model.js';
import { Rng, epochOrder } from '../rng.js';
import { CLASSES, PIXELS } from '../shape.js';
import { KERNEL_WASM_BASE64 } from './kernel.wasm.js';
import { WasmKernel, wasmKernelAvailable } from './wasm-kernel.js';

const configPath = (name: string): string => fileURLToPath(new URL(`../../../../../configs/${name}`, import.meta.url));
const configSample = loadConfig(configPath('config_sample.json')).config;
const config2 = loadConfig(configPath('config_2.json')).config;

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
});

/** W and b uniform in [−scale, scale) (b in [−bScale, bScale)), drawn from `seed`. */
function randomWeights(seed: number, scale: number, bScale = scale): Weights {
  const rng = new Rng(seed, 77, 0);
  const u = (): number => (2 * rng.next()) / 4294967296 - 1;
  const w = zeroWeights();
  for (let i = 0; i < w.W.length; i++) w.W[i] = u() * scale;
  for (let k = 0; k < CLASSES; k++) w.b[k] = u() * bScale;
  return w;
}

/** Entries whose bits differ (Object.is: +0 ≠ −0, NaN = NaN). */
function differences(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

function rowList(r: BatchSums): number[] {
  return Array.from(r.rows!.list.subarray(0, r.rows!.size));
}

/** Asserts that both results hold the same bits, the same counts and the same row set. */
function expectSame(js: BatchSums, wasm: BatchSums, what: string): void {
  expect(differences(js.sums.gW, wasm.sums.gW), `${what}: gW`).toBe(0);
  expect(differences(js.sums.gb, wasm.sums.gb), `${what}: gb`).toBe(0);
  expect(Object.is(js.sums.loss, wasm.sums.loss), `${what}: loss ${js.sums.loss} vs ${wasm.sums.loss}`).toBe(true);
  expect(wasm.sums.correct, `${what}: correct`).toBe(js.sums.correct);
  expect(wasm.sums.count, `${what}: count`).toBe(js.sums.count);
  expect(rowList(wasm), `${what}: rows`).toEqual(rowList(js));
  for (let p = 0; p < PIXELS; p++) {
    const inJs = js.rows!.stamp[p] === js.rows!.generation;
    const inWasm = wasm.rows!.stamp[p] === wasm.rows!.generation;
    if (inJs !== inWasm) expect.fail(`${what}: row ${p} is ${inJs ? '' : 'not '}in the JS set`);
  }
}

interface TestWasm {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const weightSets: [string, () => Weights][] = [
  ['zeros (all ties: argmax is class 0)', () => zeroWeights()],
  ['small, ±0.01', () => randomWeights(1, 0.01)],
  ['trained-like, ±0.1 and b ±0.5', () => randomWeights(2, 0.1, 0.5)],
  ['large, ±3 (saturated softmax)', () => randomWeights(3, 3, 10)],
  ['extreme, ±200 (logits of ±10⁴: exp underflows to 0)', () => randomWeights(4, 200, 1000)],
  ['overflowing, ±1e306 (infinite and NaN logits)', () => randomWeights(5, 1e306, 1e306)],
];

describe('WebAssembly kernel', () => {
  it('is available on this runtime and the default of LocalGradientSource', () => {
    expect(wasmKernelAvailable()).toBe(true);
    expect(new LocalGradientSource(data.train).kernel.name).toBe('wasm');
    expect(new LocalGradientSource(data.train, { kernel: 'js' }).kernel.name).toBe('js');
  });

  it('is assembled from kernel.wat: kernel.wasm.ts is current (else run build-wasm.mjs)', async () => {
    const build = (await import('./build-wasm.mjs' as string)) as { assemble(): Promise<Uint8Array>; render(b: Uint8Array): string };
    const committed = readFileSync(fileURLToPath(new URL('./kernel.wasm.ts', import.meta.url)), 'utf8');
    expect(committed).toBe(build.render(await build.assemble()));
  });

  it('rounds like Math.round (ties towards +∞, −0 kept), scalar and in pairs', () => {
    const wa = (globalThis as unknown as { WebAssembly: TestWasm }).WebAssembly;
    const memory = new wa.Memory({ initial: 1, maximum: 1, shared: true });
    const { exports } = new wa.Instance(new wa.Module(Buffer.from(KERNEL_WASM_BASE64, 'base64')), { env: { memory } });
    const round = exports.round as (x: number) => number;
    const roundPair = exports.roundPair as (a: number, b: number) => [number, number];
    const cases = [
      0, -0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 0.3, -0.3, -0.7, 1 - 2 ** -53,
      2 ** 52 - 0.5, -(2 ** 52) + 0.5, 2 ** 52, 2 ** 52 + 1, 2 ** 53 + 2, -(2 ** 53), 1e300, -1e300, 2 ** -1074, -(2 ** -1074),
      Infinity, -Infinity, NaN, 16777216 * 0.1, -16777215.5, 8388607.5, -8388607.5, 4503599627370495.5, -4503599627370495.5,
    ];
    const rng = new Rng(10, 75, 0);
    for (let t = 0; t < 2000; t++) {
      const half = (rng.below(2 ** 26) - 2 ** 25) + 0.5;
      cases.push(half, half + (rng.next() / 2 ** 32 - 0.5), (rng.next() / 2 ** 32 - 0.5) * 2 ** 25);
    }
    for (const x of cases) {
      expect(Object.is(round(x), Math.round(x)), `round(${x})`).toBe(true);
      const [a, b] = roundPair(x, -x);
      expect(Object.is(a, Math.round(x)) && Object.is(b, Math.round(-x)), `roundPair(${x}, ${-x})`).toBe(true);
    }
  });

  it('computes the logits z_k = (Σ W[p,k]·v)/255 + b_k in the JS kernel order, bit for bit', () => {
    // δ and the loss are rounded to 2⁻²⁴, which hides most one-ulp differences in z: compare z
    // itself (the module leaves the last sample's logits in its scratch, at byte 125600 from its
    // base, where gW's 62800 is).
    const train = data.train;
    for (const [name, make] of weightSets) {
      const weights = make();
      const kernel = new WasmKernel(train);
      const z = new Float64Array(kernel.sums.gW.buffer, kernel.sums.gW.byteOffset - 62800 + 125600, CLASSES);
      const rng = new Rng(11, 74, 0);
      for (let t = 0; t < 500; t++) {
        const i = rng.below(train.count);
        kernel.compute(Uint32Array.of(i), weights, 0);
        for (let k = 0; k < CLASSES; k++) {
          let acc = 0;
          for (let q = train.offsets[i]!; q < train.offsets[i + 1]!; q++) acc += weights.W[train.pixels[q]! * 10 + k]! * train.values[q]!;
          const want = acc / 255 + weights.b[k]!;
          if (!Object.is(z[k], want)) expect.fail(`${name}: image ${i}, z_${k} = ${z[k]}, the JS order gives ${want}`);
        }
      }
    }
  });

  describe.each(weightSets)('gives the bits of the JS kernel on MNIST, weights %s', (_name, make) => {
    it.each([
      [1, 300],
      [10, 100],
      [100, 30],
      [1000, 6],
      [60000, 1],
    ])('batches of %i (%i of them)', (size, batches) => {
      const weights = make();
      const js = new LocalGradientSource(data.train, { kernel: 'js' });
      const wasm = new LocalGradientSource(data.train, { kernel: 'wasm' });
      const order = epochOrder(size, 0, Uint32Array.from({ length: data.train.count }, (_, i) => i));
      for (let s = 0; s < batches; s++) {
        const batch = order.subarray(s * size, (s + 1) * size);
        expectSame(js.compute(batch, weights, 0), wasm.compute(batch, weights, 0), `batch ${s} of ${size}`);
      }
    });
  });

  it('matches batchSums (fresh buffers) and sums a batch longer than one chunk, with repeats', () => {
    const weights = randomWeights(6, 0.1, 0.3);
    const rng = new Rng(7, 76, 0);
    const batch = Uint32Array.from({ length: 150_001 }, () => rng.below(data.train.count));
    const wasm = new LocalGradientSource(data.train, { kernel: 'wasm' }).compute(batch, weights, 0);
    const js = new LocalGradientSource(data.train, { kernel: 'js' }).compute(batch, weights, 0);
    expectSame(js, wasm, 'long batch');
    const fresh = batchSums(weights, data.train, batch);
    expect(differences(fresh.gW, wasm.sums.gW)).toBe(0);
    expect(differences(fresh.gb, wasm.sums.gb)).toBe(0);
    expect(fresh.loss).toBe(wasm.sums.loss);
    expect(wasm.sums.count).toBe(150_001);
  });

  it('copies the weights again when the version or the weights object changes, and only then', () => {
    const a = randomWeights(8, 0.1);
    const b = randomWeights(9, 0.1);
    const batch = Uint32Array.of(3, 1, 4, 1, 5, 9, 2, 6);
    const js = new LocalGradientSource(data.train, { kernel: 'js' });
    const wasm = new LocalGradientSource(data.train, { kernel: 'wasm' });
    expectSame(js.compute(batch, a, 0), wasm.compute(batch, a, 0), 'a');
    // Another Weights object under the same version number: copied.
    expectSame(js.compute(batch, b, 0), wasm.compute(batch, b, 0), 'b');
    // The same object changed in place under a new version: copied.
    const c = cloneWeights(a);
    wasm.compute(batch, c, 1);
    c.W[10 * data.train.pixels[data.train.offsets[3]!]!]! += 1;
    c.b[4]! -= 0.25;
    expectSame(js.compute(batch, c, 2), wasm.compute(batch, c, 2), 'c changed');
    // Changed in place under the same version (which the GradientSource contract rules out): the
    // copy held is used, so the result is that of the weights of version 2.
    const before = wasm.compute(batch, c, 2).sums.gb.slice();
    c.b[4]! += 1;
    expect(differences(wasm.compute(batch, c, 2).sums.gb, before)).toBe(0);
    expect(differences(js.compute(batch, c, 2).sums.gb, before)).toBeGreaterThan(0);
  });

  it('refuses sample indices beyond the data and a data set with labels outside 0..9', () => {
    const wasm = new LocalGradientSource(data.train, { kernel: 'wasm' });
    expect(() => wasm.compute(Uint32Array.of(0, data.train.count), zeroWeights(), 0)).toThrow(RangeError);
    const js = new LocalGradientSource(data.train, { kernel: 'js' });
    expect(() => js.compute(Uint32Array.of(data.train.count + 5), zeroWeights(), 0)).toThrow(/sample index 60005 is beyond the 60000 images/);
    const bad = { ...data.test, labels: data.test.labels.slice() };
    bad.labels[5] = 10;
    expect(() => new WasmKernel(bad)).toThrow(/label/);
    // The module's checks see every entry: the vector part and the scalar tail.
    const nnz = data.test.offsets[data.test.count]!;
    for (const at of [0, 5, nnz - 1]) {
      const pixels = data.test.pixels.slice();
      pixels[at] = PIXELS;
      expect(() => new WasmKernel({ ...data.test, pixels }), `pixel entry ${at}`).toThrow(/pixel/);
    }
    for (const at of [0, data.test.count - 1]) {
      const labels = data.test.labels.slice();
      labels[at] = 255;
      expect(() => new WasmKernel({ ...data.test, labels }), `label ${at}`).toThrow(/label/);
    }
    const first19 = { ...data.test, count: 19, offsets: data.test.offsets.subarray(0, 20), labels: data.test.labels.slice(0, 19) };
    first19.labels[18] = 10;
    expect(() => new WasmKernel(first19), 'label in the tail').toThrow(/label/);
    const offsets = data.test.offsets.slice();
    offsets[7] = offsets[8]! + 1;
    expect(() => new WasmKernel({ ...data.test, offsets })).toThrow(/offsets/);
    // And accepts data whose largest pixel index and label are 783 and 9.
    expect(new WasmKernel(data.test).sums.count).toBe(0);
    // 'auto' falls back to the JS kernel for such data, which the JS kernel treats as before.
    expect(new LocalGradientSource(bad).kernel.name).toBe('js');
  });

  it('leaves LocalGradientSource on the JS kernel where WebAssembly is missing', async () => {
    vi.resetModules();
    const g = globalThis as { WebAssembly?: unknown };
    const saved = g.WebAssembly;
    g.WebAssembly = undefined;
    try {
      const fresh = await import('../../train/source.js');
      expect(new fresh.LocalGradientSource(data.train).kernel.name).toBe('js');
      expect(() => new fresh.LocalGradientSource(data.train, { kernel: 'wasm' })).toThrow(/not available/);
    } finally {
      g.WebAssembly = saved;
      vi.resetModules();
    }
  });

  describe.each([
    ['config_sample (batch 10, plain SGD)', configSample],
    ['config_2 (batch 100, momentum)', config2],
  ])('training two epochs of %s', (_name, config) => {
    it('gives bit-identical weights and metrics with the WebAssembly and the JS kernel', async () => {
      const cfg: TrainConfig = { ...config, num_epoches: 2 };
      const viaTrain = await train({ config: cfg, data });
      const viaJs = initialState(cfg);
      await runTraining({
        config: cfg,
        data,
        split: splitTrainingSet(data.train.count, cfg),
        source: new LocalGradientSource(data.train, { kernel: 'js' }),
        state: viaJs,
      });
      expect(differences(viaTrain.weights.W, viaJs.weights.W)).toBe(0);
      expect(differences(viaTrain.weights.b, viaJs.weights.b)).toBe(0);
      const strip = (h: typeof viaJs.history): unknown[] => h.map(({ seconds: _s, ...rest }) => rest);
      expect(strip(viaTrain.history)).toEqual(strip(viaJs.history));
      expect(viaTrain.history.at(-1)!.testAccuracy).toBeGreaterThan(0.88);

      // And the trained weights, the realistic case, give the same sums batch by batch.
      const js = new LocalGradientSource(data.train, { kernel: 'js' });
      const wasm = new LocalGradientSource(data.train, { kernel: 'wasm' });
      const order = epochOrder(cfg.seed, 5, Uint32Array.from({ length: data.train.count }, (_, i) => i));
      for (const size of [1, 10, 100, 1000]) {
        for (let s = 0; s < 20; s++) {
          const batch = order.subarray(s * size, (s + 1) * size);
          expectSame(js.compute(batch, viaJs.weights, 0), wasm.compute(batch, viaJs.weights, 0), `trained, batch ${s} of ${size}`);
        }
      }
      expectSame(js.compute(order, viaJs.weights, 0), wasm.compute(order, viaJs.weights, 0), 'trained, whole epoch');
    });
  });
});
