/**
 * A trained model as NumPy's .npz: a zip of two .npy arrays, `W` (784 × 10) and `b` (10), float64
 * little-endian, C order, so that `np.load(f)["W"][p, k]` is the weight of pixel p (row by row
 * from the top left) for digit k, and the logits of images X (N × 784, pixel/255) are X @ W + b.
 */
import { zipSync } from 'fflate';

import { CLASSES, PIXELS, type Weights } from '@mnist-lr/core/engine';

/** The .npz file's bytes. Stored uncompressed, with a fixed timestamp: the same model, the same bytes. */
export function toNpz(weights: Weights): Uint8Array {
  const entry = (data: Uint8Array): [Uint8Array, { level: 0; mtime: Date }] => [data, { level: 0, mtime: new Date(1980, 0, 1) }];
  return zipSync({
    'W.npy': entry(npy(weights.W, [PIXELS, CLASSES])),
    'b.npy': entry(npy(weights.b, [CLASSES])),
  });
}

/**
 * One array in NumPy's .npy format, version 1.0: the magic string, a little-endian header length,
 * a Python dict literal padded with spaces to a multiple of 64 bytes, then the raw data.
 */
export function npy(values: Float64Array, shape: number[]): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${dims}, }`;
  const preamble = 10; // \x93NUMPY, major, minor, uint16 length
  header += ' '.repeat(63 - ((preamble + header.length) % 64)) + '\n';
  const out = new Uint8Array(preamble + header.length + values.length * 8);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0], 0);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), preamble);
  const start = preamble + header.length;
  values.forEach((v, i) => view.setFloat64(start + i * 8, v, true));
  return out;
}
