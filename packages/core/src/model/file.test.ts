import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MnistLrError, type ErrorCode } from '../errors.js';
import { KERNEL_ID } from '../math/kernel.js';
import { zeroWeights, type Weights } from '../math/model.js';
import { Rng } from '../math/rng.js';
import type { TrainConfig } from '../types.js';
import { decodeModel, encodeModel, loadModel, MODEL_FORMAT, MODEL_VERSION, saveModel, type ModelFile } from './file.js';

const root = mkdtempSync(join(tmpdir(), 'mnist-lr-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CONFIG: TrainConfig = {
  num_epoches: 15,
  batch_size: 100,
  learning_rate: 0.0025,
  learning_decay: 1,
  decay_factor: 0.75,
  momentum: 1,
  mu: 0.9,
  seed: 4_294_967_295,
  validation_split: 0.1,
  weight_decay: 1e-4,
};

/** Doubles whose bits a sloppy encoding (decimal text, float32, dropping the sign of 0) would lose. */
const TRICKY = [
  -0,
  0,
  1e-300,
  5e-324, // smallest subnormal
  -5e-324,
  2.225073858507201e-308, // largest subnormal
  2.2250738585072014e-308, // smallest normal
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  0.1,
  1 / 3,
  1 + 2 ** -52,
  -1e300,
  Math.PI,
  16_777_217, // not a float32
];

/** A double with random bits (finite), drawn from the seeded generator. */
function randomDouble(rng: Rng, view: DataView): number {
  for (;;) {
    view.setUint32(0, rng.next(), true);
    view.setUint32(4, rng.next(), true);
    const v = view.getFloat64(0, true);
    if (Number.isFinite(v)) return v;
  }
}

function trickyWeights(): Weights {
  const w = zeroWeights();
  const rng = new Rng(123);
  const view = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < w.W.length; i++) w.W[i] = i < TRICKY.length ? TRICKY[i]! : randomDouble(rng, view);
  // The last entries of W and all of b tricky too (ends of the buffers).
  for (let t = 0; t < TRICKY.length; t++) w.W[w.W.length - 1 - t] = TRICKY[t]!;
  for (let k = 0; k < w.b.length; k++) w.b[k] = TRICKY[k]!;
  return w;
}

function model(weights: Weights = trickyWeights()): ModelFile {
  return {
    name: 'config_2',
    config: CONFIG,
    dataset: '2e2c170b225e5ac5a26bc48ca4e2bcb386e2d729927b6a0ef01aa77d313fdc8c',
    kernel: KERNEL_ID,
    epochs: 15,
    testLossSum: 3310.1700000000005,
    testAccuracy: 0.9213,
    weights,
  };
}

/** Same bits in every entry (so −0 ≠ 0). */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function base64Of(values: number[]): string {
  return Buffer.from(new Float64Array(values).buffer).toString('base64');
}

/** The encoded document of a valid model, as an object to break one field at a time. */
function validDoc(): Record<string, unknown> {
  return JSON.parse(encodeModel(model())) as Record<string, unknown>;
}

/** Runs f, expects a MnistLrError with `code`, and returns its message. */
function errorOf(f: () => unknown, code: ErrorCode): string {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MnistLrError);
  expect((caught as MnistLrError).code).toBe(code);
  return (caught as MnistLrError).message;
}

describe('encodeModel / decodeModel', () => {
  it('round-trips weights bit for bit, including −0, subnormals and the largest double', () => {
    const m = model();
    const back = decodeModel(encodeModel(m), 'm.json');
    expect(sameBits(back.weights.W, m.weights.W)).toBe(true);
    expect(sameBits(back.weights.b, m.weights.b)).toBe(true);
    expect(Object.is(back.weights.W[0], -0)).toBe(true);
    expect(back.weights.W[3]).toBe(5e-324);
    expect(back.weights.W[7]).toBe(Number.MAX_VALUE);
    expect(Object.is(back.weights.b[0], -0)).toBe(true);
    expect(back.weights.W).toBeInstanceOf(Float64Array);
    expect(back.weights.W.length).toBe(7840);
    expect(back.weights.b.length).toBe(10);
  });

  it('round-trips the metadata and config, and re-encodes to the same text', () => {
    const m = model();
    const text = encodeModel(m);
    const back = decodeModel(text, 'm.json');
    expect(back.name).toBe(m.name);
    expect(back.config).toEqual(CONFIG);
    expect(back.dataset).toBe(m.dataset);
    expect(back.kernel).toBe(KERNEL_ID);
    expect(back.epochs).toBe(15);
    expect(back.testLossSum).toBe(3310.1700000000005);
    expect(back.testAccuracy).toBe(0.9213);
    expect(encodeModel(back)).toBe(text);
  });

  it('is deterministic and readable JSON with the format, version and shape', () => {
    const a = encodeModel(model());
    expect(encodeModel(model())).toBe(a);
    const doc = JSON.parse(a) as Record<string, unknown>;
    expect(doc.format).toBe(MODEL_FORMAT);
    expect(doc.version).toBe(MODEL_VERSION);
    expect(doc.shape).toEqual([784, 10]);
    // Other weights, other text.
    const w = trickyWeights();
    w.W[100] = -w.W[100]!;
    expect(encodeModel(model(w))).not.toBe(a);
    // −0 and 0 differ on disk.
    const z = trickyWeights();
    z.W[0] = 0;
    expect(encodeModel(model(z))).not.toBe(a);
  });
});

describe('decodeModel: corrupt files give MODEL_BAD_FILE naming the file', () => {
  const FILE = '/some/dir/my-model.json';

  const corrupt: { name: string; text: () => string; why: RegExp }[] = [
    { name: 'truncated JSON', text: () => encodeModel(model()).slice(0, 200), why: /invalid JSON/ },
    { name: 'empty file', text: () => '', why: /invalid JSON/ },
    { name: 'null', text: () => 'null', why: /format/ },
    { name: 'a number', text: () => '42', why: /format/ },
    { name: 'an array', text: () => '[1, 2]', why: /format/ },
    { name: 'wrong format', text: () => JSON.stringify({ ...validDoc(), format: 'mnist-lr-checkpoint' }), why: /format/ },
    { name: 'no format', text: () => JSON.stringify({ ...validDoc(), format: undefined }), why: /format/ },
    { name: 'newer version', text: () => JSON.stringify({ ...validDoc(), version: 2 }), why: /version 2/ },
    { name: 'version as a string', text: () => JSON.stringify({ ...validDoc(), version: '1' }), why: /version/ },
    { name: 'no W', text: () => JSON.stringify({ ...validDoc(), W: undefined }), why: /"W"/ },
    { name: 'W as an array of numbers', text: () => JSON.stringify({ ...validDoc(), W: [1, 2, 3] }), why: /"W"/ },
    { name: 'W one double short', text: () => JSON.stringify({ ...validDoc(), W: base64Of(new Array(7839).fill(0)) }), why: /"W" holds 62712 bytes, expected 62720/ },
    { name: 'W one double long', text: () => JSON.stringify({ ...validDoc(), W: base64Of(new Array(7841).fill(0)) }), why: /"W".*expected 62720/ },
    { name: 'W transposed to b length', text: () => JSON.stringify({ ...validDoc(), W: base64Of(new Array(10).fill(0)) }), why: /"W"/ },
    { name: 'b of 9 values', text: () => JSON.stringify({ ...validDoc(), b: base64Of(new Array(9).fill(0)) }), why: /"b" holds 72 bytes, expected 80/ },
    {
      name: 'NaN in W',
      text: () => {
        const w = new Array<number>(7840).fill(0.5);
        w[123] = NaN;
        return JSON.stringify({ ...validDoc(), W: base64Of(w) });
      },
      why: /"W"\[123\] is not finite/,
    },
    {
      name: '−Infinity at the end of W',
      text: () => {
        const w = new Array<number>(7840).fill(0.5);
        w[7839] = -Infinity;
        return JSON.stringify({ ...validDoc(), W: base64Of(w) });
      },
      why: /"W"\[7839\] is not finite/,
    },
    {
      name: 'Infinity in b',
      text: () => JSON.stringify({ ...validDoc(), b: base64Of([0, 0, 0, Infinity, 0, 0, 0, 0, 0, 0]) }),
      why: /"b"\[3\] is not finite/,
    },
    { name: 'epochs as a string', text: () => JSON.stringify({ ...validDoc(), epochs: '15' }), why: /"epochs"/ },
    { name: 'no testAccuracy', text: () => JSON.stringify({ ...validDoc(), testAccuracy: undefined }), why: /"testAccuracy"/ },
    { name: 'no name', text: () => JSON.stringify({ ...validDoc(), name: undefined }), why: /"name"/ },
    { name: 'dataset as a number', text: () => JSON.stringify({ ...validDoc(), dataset: 7 }), why: /"dataset"/ },
  ];

  for (const { name, text, why } of corrupt) {
    it(name, () => {
      const message = errorOf(() => decodeModel(text(), FILE), 'MODEL_BAD_FILE');
      expect(message).toContain(FILE);
      expect(message).toMatch(why);
    });
  }

  it('a bad config inside is refused, naming the file and the key', () => {
    // The error code is checked in "known defects" below; here only that it is refused clearly.
    for (const config of [{ ...CONFIG, batch_size: 0 }, { ...CONFIG, learning_rat: 0.1 }]) {
      let caught: unknown;
      try {
        decodeModel(JSON.stringify({ ...validDoc(), config }), FILE);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(MnistLrError);
      expect((caught as MnistLrError).message).toContain(FILE);
      expect((caught as MnistLrError).message).toMatch(/batch_size|learning_rat/);
    }
    let missing: unknown;
    try {
      decodeModel(JSON.stringify({ ...validDoc(), config: undefined }), FILE);
    } catch (e) {
      missing = e;
    }
    expect(missing).toBeInstanceOf(MnistLrError);
    expect((missing as MnistLrError).message).toContain(FILE);
  });
});

describe('damage that must not load silently', () => {
  const FILE = '/some/dir/my-model.json';

  it('a bad config inside gives MODEL_BAD_FILE', () => {
    errorOf(() => decodeModel(JSON.stringify({ ...validDoc(), config: { ...CONFIG, batch_size: 0 } }), FILE), 'MODEL_BAD_FILE');
    errorOf(() => decodeModel(JSON.stringify({ ...validDoc(), config: undefined }), FILE), 'MODEL_BAD_FILE');
  });

  it('W with characters that are not base64 is refused', () => {
    const doc = validDoc();
    errorOf(() => decodeModel(JSON.stringify({ ...doc, W: `${doc.W as string}!!` }), FILE), 'MODEL_BAD_FILE');
  });

  it('a failed save leaves no temporary file behind', () => {
    const dir = join(root, 'failed-save');
    mkdirSync(join(dir, 'model.json', 'inside'), { recursive: true }); // the target is a non-empty directory
    expect(() => saveModel(join(dir, 'model.json'), model())).toThrow(expect.objectContaining({ code: 'OUTPUT_UNWRITABLE' }));
    expect(readdirSync(dir)).toEqual(['model.json']);
  });
});

describe('saveModel / loadModel', () => {
  it('writes atomically: the file appears whole, no temporary file is left, parents are created', () => {
    const dir = join(root, 'nested', 'models');
    const path = join(dir, 'config_2.json');
    const m = model();
    saveModel(path, m);
    expect(readdirSync(dir)).toEqual(['config_2.json']);
    expect(readFileSync(path, 'utf8')).toBe(encodeModel(m));
    const back = loadModel(path);
    expect(sameBits(back.weights.W, m.weights.W)).toBe(true);
    expect(sameBits(back.weights.b, m.weights.b)).toBe(true);

    // Overwriting replaces the content, still with no leftovers.
    const w = zeroWeights();
    w.W[5] = -0;
    w.b[9] = 1e-300;
    const m2 = model(w);
    saveModel(path, m2);
    expect(readdirSync(dir)).toEqual(['config_2.json']);
    expect(readFileSync(path, 'utf8')).toBe(encodeModel(m2));
    const back2 = loadModel(path);
    expect(Object.is(back2.weights.W[5], -0)).toBe(true);
    expect(back2.weights.b[9]).toBe(1e-300);
  });

  it('loadModel names the file when it is missing or corrupt', () => {
    const missing = join(root, 'nope', 'model.json');
    expect(errorOf(() => loadModel(missing), 'FILE_UNREADABLE')).toContain(missing);
    const bad = join(root, 'bad.json');
    writeFileSync(bad, '{"format": "mnist-lr-model", "version": 1');
    expect(errorOf(() => loadModel(bad), 'MODEL_BAD_FILE')).toContain(bad);
  });
});
