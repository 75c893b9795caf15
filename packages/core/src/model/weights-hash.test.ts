import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/schema.js';
import { loadTrainingData } from '../data/training-data.js';
import { Rng } from '../math/rng.js';
import { zeroWeights } from '../math/model.js';
import type { TrainingData } from '../train/engine.js';
import { train } from '../train/trainer.js';
import { weightsSha256 } from './weights-hash.js';

/** The golden hashes: the weights after these runs, in-process, with seed 0 (see the README). */
const GOLDEN = {
  config_1: { epochs: 2, sha256: '9146f7600b9fe277d0191d7a950ddbdd73ac808dcf33265640c49fe09aa197ae' },
  config_sample: { epochs: 1, sha256: '9fe9949bb1cbe702e402bca1e892d1954097606e8c44a953ae4650a567d08e70' },
} as const;

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
});

describe('weightsSha256', () => {
  it('is the SHA-256 of W then b as little-endian float64 bytes', () => {
    const w = zeroWeights();
    const rng = new Rng(3, 0, 0);
    for (let i = 0; i < w.W.length; i++) w.W[i] = (rng.next() - 2 ** 31) / 2 ** 37;
    for (let k = 0; k < 10; k++) w.b[k] = -k / 7;
    const bytes = Buffer.alloc(7850 * 8);
    [...w.W, ...w.b].forEach((v, i) => bytes.writeDoubleLE(v, i * 8));
    expect(weightsSha256(w)).toBe(createHash('sha256').update(bytes).digest('hex'));
    // All zeros: 62,800 zero bytes.
    expect(weightsSha256(zeroWeights())).toBe(createHash('sha256').update(Buffer.alloc(62_800)).digest('hex'));
  });

  it.each(Object.entries(GOLDEN))('of %s after its golden epochs, trained in-process, is the golden hash', async (name, golden) => {
    const path = fileURLToPath(new URL(`../../../../configs/${name}.json`, import.meta.url));
    const { config } = loadConfig(path);
    const result = await train({ config: { ...config, num_epoches: golden.epochs }, data });
    expect(weightsSha256(result.weights)).toBe(golden.sha256);
  });
});
