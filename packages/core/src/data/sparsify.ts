/**
 * Dense MNIST images to sparse rows, a chunk at a time, for the loader (training-data.ts): in the
 * kernel's WebAssembly module where it runs (skipping 16 pixels at a time), else in JS (4 at a
 * time). Both write the same arrays. Loading runs once per process, so the JS loops ran mostly
 * before the JIT had compiled them; the module is compiled before it runs.
 */
import { PIXELS } from '../math/shape.js';
import type { SparseImages } from '../math/sparse.js';
import { wasmInstance } from '../math/wasm/kernel-module.js';

export interface Sparsifier {
  /** The buffer to read a chunk of up to `capacity` dense images into (784 bytes each). */
  readonly chunk: Uint8Array;
  /** Nonzero pixels of the chunk's first `images` images. */
  count(images: number): number;
  /** Appends the chunk's first `images` images to `out` from image `first`, entry `q`; returns the next entry. */
  fill(images: number, out: SparseImages, first: number, q: number): number;
}

/** A sparsifier for chunks of up to `capacity` images: the module's where it runs, else JS. */
export function createSparsifier(capacity: number): Sparsifier {
  return wasmSparsifier(capacity) ?? jsSparsifier(capacity);
}

interface SparsifyExports {
  countNonzero(at: number, n: number): number;
  sparsify(at: number, images: number, pixelsAt: number, valuesAt: number, offsetsAt: number): number;
}

/** The module's sparsifier, or null where it cannot run. Its memory: chunk, pixels, values, offsets. */
export function wasmSparsifier(capacity: number): Sparsifier | null {
  const pixelsAt = capacity * PIXELS;
  const valuesAt = pixelsAt + 2 * capacity * PIXELS;
  const offsetsAt = valuesAt + capacity * PIXELS;
  const made = wasmInstance(Math.ceil((offsetsAt + 4 * capacity) / 65536));
  if (made === null) return null;
  const wasm = made.exports as unknown as SparsifyExports;
  const chunk = new Uint8Array(made.buffer, 0, capacity * PIXELS);
  const pixels = new Uint16Array(made.buffer, pixelsAt, capacity * PIXELS);
  const values = new Uint8Array(made.buffer, valuesAt, capacity * PIXELS);
  const offsets = new Uint32Array(made.buffer, offsetsAt, capacity);
  return {
    chunk,
    count: (images) => wasm.countNonzero(0, images * PIXELS),
    fill(images, out, first, q) {
      const n = wasm.sparsify(0, images, pixelsAt, valuesAt, offsetsAt);
      out.pixels.set(pixels.subarray(0, n), q);
      out.values.set(values.subarray(0, n), q);
      for (let i = 0; i < images; i++) out.offsets[first + i] = q + offsets[i]!;
      return q + n;
    },
  };
}

/** The JS sparsifier (where WebAssembly SIMD is missing, and the module's reference in tests). */
export function jsSparsifier(capacity: number): Sparsifier {
  // A buffer of whole words, so that four pixels can be tested at once (784 = 4 · 196).
  const chunk = new Uint8Array(new ArrayBuffer(capacity * PIXELS));
  const words = new Uint32Array(chunk.buffer);
  return {
    chunk,
    count: (images) => countNonzeroJs(chunk, words, (images * PIXELS) >> 2),
    fill: (images, out, first, q) => fillSparseJs(chunk, words, images, out, first, q),
  };
}

function countNonzeroJs(bytes: Uint8Array, words: Uint32Array, nWords: number): number {
  let n = 0;
  for (let w = 0; w < nWords; w++) {
    if (words[w] === 0) continue;
    const b = w << 2;
    n += nonzero(bytes[b]!) + nonzero(bytes[b + 1]!) + nonzero(bytes[b + 2]!) + nonzero(bytes[b + 3]!);
  }
  return n;
}

/**
 * 1 for a pixel value 1..255, 0 for 0, without a branch: whether a pixel is ink is close to a coin
 * toss in a word that has some, and mispredicted branches made the loops below twice as slow.
 */
function nonzero(v: number): number {
  return (v + 255) >> 8;
}

/**
 * Appends `images` dense images from `bytes` to `out` from image `first`, entry `q`; returns the
 * next entry. Every pixel of a word with ink is written at q, and q moves on only for ink: a zero
 * is overwritten by the next pixel (or by the next image, whose first entry is at the same q;
 * past the last entry, the typed array ignores the write).
 */
function fillSparseJs(bytes: Uint8Array, words: Uint32Array, images: number, out: SparseImages, first: number, q: number): number {
  const { offsets, pixels, values } = out;
  const WORDS = PIXELS >> 2;
  for (let i = 0; i < images; i++) {
    offsets[first + i] = q;
    const w0 = i * WORDS;
    for (let w = 0; w < WORDS; w++) {
      if (words[w0 + w] === 0) continue;
      const b = (w0 + w) << 2;
      const p = w << 2;
      let v = bytes[b]!;
      pixels[q] = p;
      values[q] = v;
      q += nonzero(v);
      v = bytes[b + 1]!;
      pixels[q] = p + 1;
      values[q] = v;
      q += nonzero(v);
      v = bytes[b + 2]!;
      pixels[q] = p + 2;
      values[q] = v;
      q += nonzero(v);
      v = bytes[b + 3]!;
      pixels[q] = p + 3;
      values[q] = v;
      q += nonzero(v);
    }
  }
  return q;
}
