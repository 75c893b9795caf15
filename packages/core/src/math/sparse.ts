/**
 * MNIST images in compressed-sparse-row form: only nonzero pixels are stored (about 19 % of them),
 * which is what makes the kernel fast. Pixels stay integers 0..255; the kernel divides by 255 once
 * per logit instead of once per pixel.
 */
import { PIXELS } from './shape.js';
import type { WasmMemory } from './wasm/wasm-api.js';

export interface SparseImages {
  /** Number of images. */
  count: number;
  /** Image i's nonzero pixels are entries offsets[i] .. offsets[i+1]-1. */
  offsets: Uint32Array;
  /** Pixel index 0..783 of each entry, ascending within an image. */
  pixels: Uint16Array;
  /** Pixel value 1..255 of each entry. */
  values: Uint8Array;
  /** Label 0..9 of each image. */
  labels: Uint8Array;
  /**
   * The shared WebAssembly memory the arrays live in, when they were allocated there (the training
   * images of loadTrainingData): WebAssembly kernels then read them in place instead of copying.
   */
  memory?: WasmMemory;
}

/**
 * Empty sparse images of `count` images and `nnz` entries (labels included), all in one
 * SharedArrayBuffer: a worker thread given them (postMessage, workerData) reads the same memory
 * instead of a copy. By convention nobody writes to them once they are filled.
 */
export function allocSparse(count: number, nnz: number): SparseImages {
  // Offsets first (4-byte aligned at 0), then the 2-byte pixel indices, then the bytes.
  const pixelsAt = 4 * (count + 1);
  const valuesAt = pixelsAt + 2 * nnz;
  const labelsAt = valuesAt + nnz;
  // A browser page that is not cross-origin isolated has no SharedArrayBuffer, nor threads to share with.
  const buffer = typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(labelsAt + count) : new ArrayBuffer(labelsAt + count);
  return {
    count,
    offsets: new Uint32Array(buffer, 0, count + 1),
    pixels: new Uint16Array(buffer, pixelsAt, nnz),
    values: new Uint8Array(buffer, valuesAt, nnz),
    labels: new Uint8Array(buffer, labelsAt, count),
  };
}

/** Converts dense row-major images (count × 784 bytes) to sparse rows, in two passes. */
export function toSparse(images: Uint8Array, labels: Uint8Array, count: number): SparseImages {
  if (images.length !== count * PIXELS) {
    throw new RangeError(`toSparse: expected ${count * PIXELS} pixel bytes for ${count} images, got ${images.length}`);
  }
  if (labels.length !== count) {
    throw new RangeError(`toSparse: expected ${count} labels, got ${labels.length}`);
  }
  let nnz = 0;
  for (let i = 0; i < images.length; i++) if (images[i] !== 0) nnz++;
  const out = allocSparse(count, nnz);
  const { offsets, pixels, values } = out;
  out.labels.set(labels);
  let q = 0;
  for (let i = 0; i < count; i++) {
    offsets[i] = q;
    const base = i * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      const v = images[base + p]!;
      if (v !== 0) {
        pixels[q] = p;
        values[q] = v;
        q++;
      }
    }
  }
  offsets[count] = q;
  return out;
}
