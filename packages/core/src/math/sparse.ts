/**
 * MNIST images in compressed-sparse-row form: only nonzero pixels are stored (about 19 % of them),
 * which is what makes the kernel fast. Pixels stay integers 0..255; the kernel divides by 255 once
 * per logit instead of once per pixel.
 */
import { PIXELS } from './shape.js';

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
  const offsets = new Uint32Array(count + 1);
  const pixels = new Uint16Array(nnz);
  const values = new Uint8Array(nnz);
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
  return { count, offsets, pixels, values, labels };
}
