/**
 * Copies between shared memories. V8 copies into or out of a SharedArrayBuffer with
 * TypedArray.prototype.set element by element (it must assume other threads read them), three to
 * four times slower than memcpy: 3 µs instead of 1 for a W. Node's Buffer.prototype.fill, given a
 * Buffer of the same length, copies it once by memcpy; runtimes without Buffer copy with set().
 */
import type { Weights } from '../../math/model.js';

type BufferLike = Uint8Array & { fill(value: Uint8Array): unknown };
type BufferApi = { from(buffer: ArrayBufferLike, offset: number, length: number): BufferLike };
const NodeBuffer = (globalThis as { Buffer?: BufferApi }).Buffer;

/** dst ← src, both of the same length. */
export function copyF64(dst: Float64Array, src: Float64Array): void {
  if (dst.length !== src.length) throw new RangeError(`copyF64: ${dst.length} elements from ${src.length}`);
  if (NodeBuffer === undefined) {
    dst.set(src);
    return;
  }
  NodeBuffer.from(dst.buffer, dst.byteOffset, dst.byteLength).fill(NodeBuffer.from(src.buffer, src.byteOffset, src.byteLength));
}

/** into ← from (W and b). */
export function copyWeights(into: Weights, from: Weights): void {
  copyF64(into.W, from.W);
  into.b.set(from.b);
}
