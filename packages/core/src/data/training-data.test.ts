import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { SparseImages } from '../math/sparse.js';
import type { TrainingData } from '../train/engine.js';
import { defaultMnistDir, loadMnist } from './mnist.js';
import { PIXELS as IMAGE_SIZE } from '../math/shape.js';
import { prepareData } from './prepare.js';
import { loadTrainingData } from './training-data.js';

const NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
const SLOW = 60_000;

const root = mkdtempSync(join(tmpdir(), 'mnist-lr-training-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function expectSame(a: SparseImages, b: SparseImages): void {
  expect(a.count).toBe(b.count);
  for (const k of ['offsets', 'pixels', 'values', 'labels'] as const) {
    expect(a[k].length, k).toBe(b[k].length);
    expect(Buffer.compare(Buffer.from(a[k].buffer, a[k].byteOffset, a[k].byteLength), Buffer.from(b[k].buffer, b[k].byteOffset, b[k].byteLength)), k).toBe(0);
  }
}

/** IDX bytes of unsigned bytes with the given dims and data. */
function idx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('loadTrainingData on the real files', () => {
  let dense: TrainingData;
  let streamed: TrainingData;
  beforeAll(() => {
    dense = prepareData(loadMnist());
    streamed = loadTrainingData();
  }, SLOW);

  it('gives the arrays and the fingerprint of prepareData(loadMnist())', () => {
    expect(streamed.fingerprint).toBe(dense.fingerprint);
    expectSame(streamed.train, dense.train);
    expectSame(streamed.test, dense.test);
  });

  it('puts every array in shared memory, so worker threads read it without a copy', () => {
    for (const split of [streamed.train, streamed.test]) {
      for (const a of [split.offsets, split.pixels, split.values, split.labels]) expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    }
  });

  it('reads a gzipped copy the same way', () => {
    const d = join(root, 'gz');
    mkdirSync(d);
    for (const n of NAMES) writeFileSync(join(d, `${n}.gz`), gzipSync(readFileSync(join(defaultMnistDir(), n)), { level: 1 }));
    const gz = loadTrainingData({ dataDir: d });
    expect(gz.fingerprint).toBe(dense.fingerprint);
    expectSame(gz.train, dense.train);
  }, SLOW);

  it('reports a truncated image file with the code and message loadMnist gives', () => {
    const d = join(root, 'truncated');
    mkdirSync(d);
    for (const n of NAMES) copyFileSync(join(defaultMnistDir(), n), join(d, n));
    truncateSync(join(d, 't10k-images-idx3-ubyte'), 7840016 - 784);
    const err = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('nothing thrown');
    };
    const streamedError = err(() => loadTrainingData({ dataDir: d })) as { code: string; message: string };
    const denseError = err(() => loadMnist({ dataDir: d })) as { code: string; message: string };
    expect(streamedError.code).toBe('IDX_BAD_LENGTH');
    expect(streamedError.message).toBe(denseError.message);
  }, SLOW);
});

describe('loadTrainingData on small files', () => {
  function tiny(name: string, trainImages: Uint8Array, trainLabels: Uint8Array): string {
    const d = join(root, name);
    mkdirSync(d);
    writeFileSync(join(d, NAMES[0]!), trainImages);
    writeFileSync(join(d, NAMES[1]!), trainLabels);
    writeFileSync(join(d, NAMES[2]!), idx([1, 28, 28], new Uint8Array(IMAGE_SIZE).fill(1)));
    writeFileSync(join(d, NAMES[3]!), idx([1], new Uint8Array([3])));
    return d;
  }

  it('keeps every nonzero pixel, wherever it falls in a group of four, and more images than one chunk', () => {
    // 5000 images (more than one chunk of reading), each with a different scatter of pixels.
    const n = 5000;
    const pixels = new Uint8Array(n * IMAGE_SIZE);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) % 7 === 0 ? 1 + (i % 255) : 0;
    const labels = new Uint8Array(n).map((_, i) => i % 10);
    const d = tiny('scatter', idx([n, 28, 28], pixels), idx([n], labels));
    const streamed = loadTrainingData({ dataDir: d });
    const dense = prepareData(loadMnist({ dataDir: d }));
    expect(streamed.fingerprint).toBe(dense.fingerprint);
    expectSame(streamed.train, dense.train);
    expectSame(streamed.test, dense.test);
  });

  it('reports a label outside 0..9 and a label file of another length as loadMnist does', () => {
    const images = idx([2, 28, 28], new Uint8Array(2 * IMAGE_SIZE).fill(9));
    const bad = tiny('label', images, idx([2], new Uint8Array([1, 10])));
    expect(() => loadTrainingData({ dataDir: bad })).toThrow(expect.objectContaining({ code: 'MNIST_INCONSISTENT', message: expect.stringContaining('#1') }));
    const short = tiny('count', images, idx([3], new Uint8Array([1, 2, 3])));
    expect(() => loadTrainingData({ dataDir: short })).toThrow(expect.objectContaining({ code: 'MNIST_INCONSISTENT' }));
    const swapped = tiny('swap', idx([2], new Uint8Array([1, 2])), images);
    expect(() => loadTrainingData({ dataDir: swapped })).toThrow(expect.objectContaining({ code: 'IDX_BAD_SHAPE' }));
  });
});
