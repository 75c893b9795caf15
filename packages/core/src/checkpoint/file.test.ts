import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MnistLrError, type ErrorCode } from '../errors.js';
import { kernelFingerprint } from '../math/fingerprint.js';
import { zeroWeights, type Weights } from '../math/model.js';
import { Rng } from '../math/rng.js';
import type { TrainState } from '../train/state.js';
import type { EpochMetrics, TrainConfig } from '../types.js';
import {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  checkCompatible,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type Checkpoint,
} from './file.js';

const root = mkdtempSync(join(tmpdir(), 'mnist-lr-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DATASET = '2e2c170b225e5ac5a26bc48ca4e2bcb386e2d729927b6a0ef01aa77d313fdc8c';
const PLAIN: TrainConfig = {
  num_epoches: 15,
  batch_size: 100,
  learning_rate: 0.0025,
  learning_decay: 0,
  decay_factor: 0.75,
  momentum: 0,
  mu: 0.9,
  seed: 0,
  validation_split: 0,
  weight_decay: 0,
};
const MOMENTUM: TrainConfig = { ...PLAIN, learning_decay: 1, momentum: 1, seed: 4_294_967_295, validation_split: 0.1, weight_decay: 1e-4 };

/** Doubles a sloppy encoding (decimal text, float32, JSON's -0 → 0) would lose. */
const TRICKY = [-0, 0, 1e-300, 5e-324, -5e-324, 2.225073858507201e-308, Number.MAX_VALUE, -Number.MAX_VALUE, 0.1, 1 / 3, 1 + 2 ** -52, Math.PI, 16_777_217];

function randomWeights(seed: number): Weights {
  const w = zeroWeights();
  const rng = new Rng(seed);
  const view = new DataView(new ArrayBuffer(8));
  const fill = (a: Float64Array): void => {
    for (let i = 0; i < a.length; i++) {
      do {
        view.setUint32(0, rng.next(), true);
        view.setUint32(4, rng.next(), true);
      } while (!Number.isFinite(view.getFloat64(0, true)));
      a[i] = view.getFloat64(0, true);
    }
  };
  fill(w.W);
  fill(w.b);
  for (let t = 0; t < TRICKY.length; t++) {
    w.W[t] = TRICKY[t]!;
    w.W[w.W.length - 1 - t] = TRICKY[t]!;
  }
  w.b[0] = -0;
  w.b[9] = 5e-324;
  return w;
}

function metrics(epoch: number, val: boolean): EpochMetrics {
  const m: EpochMetrics = {
    epoch,
    lr: 0.0025 * 0.75 ** epoch,
    trainLoss: 0.1 + 1 / (epoch + 3),
    trainAccuracy: 0.8 + epoch / 1000,
    testLossSum: 3310.1700000000005,
    testLoss: 0.33101700000000005,
    testAccuracy: 0.9213,
    seconds: 0.31415926 * epoch,
  };
  if (val) Object.assign(m, { valLossSum: 2000.5 + epoch, valLoss: 0.3334166666666667, valAccuracy: 0.9 + epoch / 7 });
  return m;
}

function checkpoint(config: TrainConfig = MOMENTUM, over: Partial<TrainState> = {}): Checkpoint {
  const state: TrainState = {
    weights: randomWeights(1),
    velocity: config.momentum === 1 ? randomWeights(2) : null,
    lr: 0.0025 * 0.75 * 0.75,
    epoch: 3,
    step: 137,
    // Exact sums are multiples of 2⁻²⁴.
    epochLoss: 123_456_789.125 / 2 ** 10,
    epochCorrect: 11_234,
    epochCount: 13_700,
    history: [1, 2, 3].map((e) => metrics(e, config.validation_split > 0)),
    version: 1937,
    ...over,
  };
  return { name: 'config_2', config, dataset: DATASET, kernel: kernelFingerprint(), state };
}

/** Every double of the state, as bits. */
function bits(c: Checkpoint): string[] {
  const s = c.state;
  const all = [...s.weights.W, ...s.weights.b, ...(s.velocity ? [...s.velocity.W, ...s.velocity.b] : []), s.lr, s.epochLoss, s.epochCorrect, s.epochCount];
  for (const m of s.history) for (const v of Object.values(m)) all.push(v);
  const view = new DataView(new ArrayBuffer(8));
  return all.map((v) => {
    view.setFloat64(0, v, true);
    return view.getBigUint64(0, true).toString(16);
  });
}

function codeOf(f: () => unknown): ErrorCode | 'none' {
  try {
    f();
    return 'none';
  } catch (e) {
    if (e instanceof MnistLrError) return e.code;
    throw e;
  }
}

function errorOf(f: () => unknown): MnistLrError {
  try {
    f();
  } catch (e) {
    if (e instanceof MnistLrError) return e;
    throw e;
  }
  throw new Error('expected a coded error');
}

describe('checkpoint file: round trip', () => {
  it('momentum, validation metrics, decayed lr: every bit comes back, -0 and subnormals included', () => {
    const c = checkpoint();
    const back = decodeCheckpoint(encodeCheckpoint(c), 'x.ckpt');
    expect(bits(back)).toEqual(bits(c));
    expect(Object.is(back.state.weights.W[0], -0)).toBe(true);
    expect(Object.is(back.state.weights.b[0], -0)).toBe(true);
    expect(back.state.velocity).not.toBeNull();
    expect(back).toEqual(c);
    expect(back.state.history[0]).toHaveProperty('valAccuracy');
  });

  it('plain SGD: velocity null, no validation metrics', () => {
    const c = checkpoint(PLAIN);
    const back = decodeCheckpoint(encodeCheckpoint(c), 'x.ckpt');
    expect(back.state.velocity).toBeNull();
    expect(back).toEqual(c);
    expect(bits(back)).toEqual(bits(c));
    expect(back.state.history[0]).not.toHaveProperty('valAccuracy');
  });

  it('a fresh state (epoch 0, step 0, empty history) and values JSON cannot carry (-0, NaN, ±Infinity) in the scalars', () => {
    const c = checkpoint(PLAIN, { epoch: 1, step: 0, history: [{ ...metrics(1, false), trainLoss: NaN, seconds: -0, testLoss: Infinity }], epochLoss: -0, lr: -Infinity });
    const back = decodeCheckpoint(encodeCheckpoint(c), 'x.ckpt');
    expect(bits(back)).toEqual(bits(c));
    const fresh = checkpoint(PLAIN, { epoch: 0, step: 0, history: [], epochLoss: 0, epochCorrect: 0, epochCount: 0, version: 0, weights: zeroWeights() });
    expect(decodeCheckpoint(encodeCheckpoint(fresh), 'x.ckpt')).toEqual(fresh);
  });

  it('is deterministic and self-describing: format name, version, sizes', () => {
    const a = encodeCheckpoint(checkpoint());
    const b = encodeCheckpoint(checkpoint());
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const text = Buffer.from(a).toString('latin1');
    expect(text.startsWith(`${CHECKPOINT_FORMAT}\n`)).toBe(true);
    expect(text).toContain(`"format":"${CHECKPOINT_FORMAT}","version":${CHECKPOINT_VERSION}`);
    expect(text).toContain(`"kernel":"${kernelFingerprint()}"`);
    // Two weight sets of 7,850 doubles, a header and the digest.
    expect(a.length).toBeGreaterThan(2 * 7850 * 8 + 32);
    expect(a.length).toBeLessThan(2 * 7850 * 8 + 32 + 4096);
  });

  it('save/load through a file; the save is atomic (no temporary file left)', () => {
    const path = join(root, 'sub', 'config_2.ckpt');
    const c = checkpoint();
    const size = saveCheckpoint(path, c);
    expect(readFileSync(path).length).toBe(size);
    expect(readdirSync(join(root, 'sub'))).toEqual(['config_2.ckpt']);
    expect(bits(loadCheckpoint(path))).toEqual(bits(c));
    // Replacing it.
    const later = checkpoint(MOMENTUM, { step: 138, version: 1938 });
    saveCheckpoint(path, later);
    expect(loadCheckpoint(path).state.step).toBe(138);
    expect(readdirSync(join(root, 'sub'))).toEqual(['config_2.ckpt']);
  });
});

describe('checkpoint file: damage is always detected', () => {
  const good = Buffer.from(encodeCheckpoint(checkpoint()));

  it('truncated at any of many lengths → CHECKPOINT_BAD naming the file and what to do', () => {
    const lengths = new Set<number>([0, 1, 10, 19, 20, 23, 27, 28, 100, 500, good.length - 33, good.length - 32, good.length - 31, good.length - 1]);
    for (let n = 0; n < good.length; n += 997) lengths.add(n);
    for (const n of lengths) {
      const e = errorOf(() => decodeCheckpoint(good.subarray(0, n), 'runs/config_2.ckpt'));
      expect(e.code, `truncated to ${n}`).toBe('CHECKPOINT_BAD');
      expect(e.message).toContain('runs/config_2.ckpt');
      expect(e.message).toContain('without --resume');
    }
    // Also extended.
    expect(codeOf(() => decodeCheckpoint(Buffer.concat([good, Buffer.from([0])]), 'x'))).toBe('CHECKPOINT_BAD');
  });

  it('one flipped bit anywhere → CHECKPOINT_BAD', () => {
    const rng = new Rng(7);
    const positions = new Set<number>([0, 5, 19, 20, 21, 24, 27, 28, 40, good.length - 32, good.length - 1]);
    while (positions.size < 400) positions.add(rng.next() % good.length);
    for (const p of positions) {
      const copy = Buffer.from(good);
      copy[p] = copy[p]! ^ (1 << rng.next() % 8);
      expect(codeOf(() => decodeCheckpoint(copy, 'x.ckpt')), `bit flipped in byte ${p}`).toBe('CHECKPOINT_BAD');
    }
  });

  it('another format or version → CHECKPOINT_BAD saying which', () => {
    expect(errorOf(() => decodeCheckpoint(Buffer.from('{"format":"mnist-lr-model"}'), 'm.json')).message).toContain(`does not start with "${CHECKPOINT_FORMAT}"`);
    const v2 = Buffer.from(good);
    v2.writeUInt32LE(2, CHECKPOINT_FORMAT.length + 1);
    expect(errorOf(() => decodeCheckpoint(v2, 'x.ckpt')).message).toContain('format version 2; this build reads version 1');
  });

  it('a well-formed file with an inconsistent content (checksum recomputed) is still refused', async () => {
    const { createHash } = await import('node:crypto');
    const forge = (edit: (header: string) => string): Buffer => {
      const start = CHECKPOINT_FORMAT.length + 9;
      const hlen = good.readUInt32LE(start - 4);
      const header = edit(good.subarray(start, start + hlen).toString('utf8').trimEnd());
      const padded = Buffer.from(header.padEnd(hlen, ' '), 'utf8');
      expect(padded.length).toBe(hlen);
      const out = Buffer.from(good);
      padded.copy(out, start);
      createHash('sha256').update(out.subarray(0, out.length - 32)).digest().copy(out, out.length - 32);
      return out;
    };
    expect(decodeCheckpoint(forge((h) => h), 'x')).toEqual(checkpoint());
    expect(errorOf(() => decodeCheckpoint(forge((h) => h.replace('"momentum":true', '"momentum":false')), 'x')).code).toBe('CHECKPOINT_BAD');
    expect(errorOf(() => decodeCheckpoint(forge((h) => h.replace('"epoch":3,', '"epoch":4,')), 'x')).message).toContain('state.history has 3 epochs');
    expect(errorOf(() => decodeCheckpoint(forge((h) => h.replace('"batch_size":100', '"batch_size":0  ')), 'x')).message).toContain('"config" is invalid');
    expect(errorOf(() => decodeCheckpoint(forge((h) => h.replace('"step":137', '"step":-13')), 'x')).message).toContain('state.step');
  });

  it('a missing file → FILE_UNREADABLE naming the path and saying to run without --resume', () => {
    const path = join(root, 'nowhere', 'config_9.ckpt');
    const e = errorOf(() => loadCheckpoint(path));
    expect(e.code).toBe('FILE_UNREADABLE');
    expect(e.message).toContain(path);
    expect(e.message).toContain('without --resume');
    expect(existsSync(path)).toBe(false);
  });

  it('a damaged file on disk → CHECKPOINT_BAD naming it', () => {
    const path = join(root, 'damaged.ckpt');
    const copy = Buffer.from(good);
    copy[good.length >> 1] = copy[good.length >> 1]! ^ 0x10;
    writeFileSync(path, copy);
    const e = errorOf(() => loadCheckpoint(path));
    expect(e.code).toBe('CHECKPOINT_BAD');
    expect(e.message).toContain(path);
  });
});

describe('checkCompatible', () => {
  const c = checkpoint();
  const target = { config: MOMENTUM, dataset: DATASET, name: 'config_2', source: 'configs/config_2.json', file: 'out/checkpoints/config_2.ckpt' };

  it('accepts the same run', () => {
    expect(() => checkCompatible(c, target)).not.toThrow();
  });

  it('refuses every other config value, naming the key and both values', () => {
    const other: Partial<TrainConfig> = { batch_size: 10, learning_rate: 0.005, learning_decay: 0, decay_factor: 0.5, momentum: 0, mu: 0.5, seed: 1, validation_split: 0, weight_decay: 0 };
    for (const [key, value] of Object.entries(other)) {
      const e = errorOf(() => checkCompatible(c, { ...target, config: { ...MOMENTUM, [key]: value } }));
      expect(e.code, key).toBe('CHECKPOINT_MISMATCH');
      expect(e.message).toContain(`${key} ${String(MOMENTUM[key as keyof TrainConfig])} in the checkpoint, ${String(value)} in configs/config_2.json`);
      expect(e.message).toContain('out/checkpoints/config_2.ckpt');
    }
  });

  it('refuses another dataset, config name or kernel', () => {
    const e = errorOf(() => checkCompatible(c, { ...target, dataset: 'f'.repeat(64) }));
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    expect(e.message).toContain('dataset');
    expect(e.message).toContain(DATASET.slice(0, 12));
    expect(errorOf(() => checkCompatible(c, { ...target, name: 'config_3' })).message).toContain('checkpoint of config_2, not of config_3');
    expect(errorOf(() => checkCompatible(c, { ...target, kernel: 'other/1' })).message).toContain('kernel');
  });

  it('lets num_epoches change, as long as it covers the epochs started', () => {
    // Epoch 4 is in progress (3 done, step 137).
    for (const n of [4, 5, 100]) expect(() => checkCompatible(c, { ...target, config: { ...MOMENTUM, num_epoches: n } })).not.toThrow();
    const e = errorOf(() => checkCompatible(c, { ...target, config: { ...MOMENTUM, num_epoches: 3 } }));
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    expect(e.message).toContain('--epochs 4');
    // At an epoch's end (step 0), 3 epochs done: 3 is enough (nothing left to train).
    const atEnd = checkpoint(MOMENTUM, { step: 0 });
    expect(() => checkCompatible(atEnd, { ...target, config: { ...MOMENTUM, num_epoches: 3 } })).not.toThrow();
    expect(codeOf(() => checkCompatible(atEnd, { ...target, config: { ...MOMENTUM, num_epoches: 2 } }))).toBe('CHECKPOINT_MISMATCH');
  });
});
