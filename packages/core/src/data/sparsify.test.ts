import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { PIXELS } from '../math/shape.js';
import { allocSparse, type SparseImages } from '../math/sparse.js';
import { defaultMnistDir, mnistPaths } from './mnist.js';
import { jsSparsifier, wasmSparsifier, type Sparsifier } from './sparsify.js';

/** Runs a sparsifier over `dense` (count × 784 bytes) in chunks of `capacity`, as the loader does. */
function run(make: (capacity: number) => Sparsifier | null, dense: Uint8Array, capacity: number): SparseImages {
  const s = make(capacity);
  if (s === null) throw new Error('no sparsifier');
  const count = dense.length / PIXELS;
  let nnz = 0;
  for (let first = 0; first < count; first += capacity) {
    const images = Math.min(capacity, count - first);
    s.chunk.set(dense.subarray(first * PIXELS, (first + images) * PIXELS));
    nnz += s.count(images);
  }
  const out = allocSparse(count, nnz);
  let q = 0;
  for (let first = 0; first < count; first += capacity) {
    const images = Math.min(capacity, count - first);
    s.chunk.set(dense.subarray(first * PIXELS, (first + images) * PIXELS));
    q = s.fill(images, out, first, q);
  }
  out.offsets[count] = q;
  expect(q).toBe(nnz);
  return out;
}

function expectSameRows(a: SparseImages, b: SparseImages): void {
  expect(a.offsets).toEqual(b.offsets);
  expect(a.pixels).toEqual(b.pixels);
  expect(a.values).toEqual(b.values);
}

describe('the sparsifiers', () => {
  it('write the same rows from the real test images, in the module and in JS', () => {
    const dense = readFileSync(mnistPaths(defaultMnistDir()).testImages).subarray(16);
    expect(wasmSparsifier(1)).not.toBeNull();
    const wasm = run(wasmSparsifier, dense, 2048);
    expectSameRows(wasm, run(jsSparsifier, dense, 2048));
    // Chunking does not matter.
    expectSameRows(wasm, run(wasmSparsifier, dense, 3));
    expect(wasm.offsets[10_000]).toBeGreaterThan(1_000_000);
  });

  it('keep every pixel of an all-ink image, none of an empty one, and the ink at group edges', () => {
    const dense = new Uint8Array(5 * PIXELS);
    dense.fill(255, 0, PIXELS); // image 0: all ink
    // image 1: empty. Image 2: the first and last pixel of every group of 16, and pixel 783.
    for (let g = 0; g < PIXELS; g += 16) {
      dense[2 * PIXELS + g] = 1;
      dense[2 * PIXELS + g + 15] = 2;
    }
    dense[3 * PIXELS + 783] = 7; // image 3: the last pixel only
    for (let p = 0; p < PIXELS; p += 2) dense[4 * PIXELS + p] = p % 255 || 1; // image 4: every other pixel
    const wasm = run(wasmSparsifier, dense, 2);
    expectSameRows(wasm, run(jsSparsifier, dense, 5));
    expect(Array.from(wasm.offsets)).toEqual([0, 784, 784, 784 + 98, 784 + 99, 784 + 99 + 392]);
    expect(wasm.pixels[783]).toBe(783);
    expect(wasm.pixels[784 + 98]).toBe(783);
    expect(wasm.values[784 + 98]).toBe(7);
  });
});
