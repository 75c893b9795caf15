import { sha256 } from '../hash/sha256.js';
import type { Weights } from '../math/model.js';

/**
 * The weights' SHA-256, as `mnist-lr eval` prints it: W (784 × 10, row by pixel: W[p·10 + k])
 * then b (10), each value as little-endian float64, 62,800 bytes in all. Two runs that produced
 * the same bits have the same hash on any machine, so it is how anyone checks a run against the
 * README's table or against a second implementation (test/witness/).
 */
export function weightsSha256(weights: Weights): string {
  const hash = sha256();
  for (const values of [weights.W, weights.b]) {
    const bytes = new DataView(new ArrayBuffer(values.length * 8));
    for (let i = 0; i < values.length; i++) bytes.setFloat64(i * 8, values[i]!, true);
    hash.update(new Uint8Array(bytes.buffer));
  }
  return hash.hex();
}
