/**
 * Copies of weights between shared memories, by memcpy where the runtime allows (see
 * math/copy.ts).
 */
import { copyF64 } from '../../math/copy.js';
import type { Weights } from '../../math/model.js';

/** into ← from (W and b). */
export function copyWeights(into: Weights, from: Weights): void {
  copyF64(into.W, from.W);
  into.b.set(from.b);
}
