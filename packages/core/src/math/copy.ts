/**
 * Copies of f64 arrays into or out of shared memories (a kernel's scratch, the data plane's board
 * and slots). V8 copies into or out of a SharedArrayBuffer with TypedArray.prototype.set element
 * by element (it must assume other threads read them), three to four times slower than memcpy:
 * 3 µs instead of 1 for a W, 15 % of an epoch at batch 10. Node's Buffer.prototype.fill, given a
 * Buffer of the same length, copies it once by memcpy (Bun and Deno have Buffer too); a browser
 * has no Buffer and copies with set().
 */

type BufferLike = Uint8Array & { fill(value: Uint8Array): unknown };
type BufferApi = { from(buffer: ArrayBufferLike, offset: number, length: number): BufferLike };
const NodeBuffer = (globalThis as { Buffer?: BufferApi }).Buffer;

/**
 * A Buffer over each array copied, made once: the same arrays are copied every step, and making
 * two Buffers per copy costs about half as much again as the copy. A view's bytes stay where its
 * array's are: a shared memory that grows gets a new buffer, but the arrays over the old one keep
 * it. An array whose length changed (over a resizable buffer) gets a new view; one whose buffer was
 * detached (a non-shared WebAssembly memory that grew) has length 0 and never reaches here.
 */
const views = new WeakMap<Float64Array, BufferLike>();

function bytesOf(a: Float64Array): BufferLike {
  let view = views.get(a);
  if (view === undefined || view.byteLength !== a.byteLength) {
    view = NodeBuffer!.from(a.buffer, a.byteOffset, a.byteLength);
    views.set(a, view);
  }
  return view;
}

/** dst ← src, both of the same length. */
export function copyF64(dst: Float64Array, src: Float64Array): void {
  if (dst.length !== src.length) throw new RangeError(`copyF64: ${dst.length} elements from ${src.length}`);
  // Buffer.prototype.fill refuses an empty value; set() copies nothing as fast.
  if (NodeBuffer === undefined || dst.length === 0) {
    dst.set(src);
    return;
  }
  bytesOf(dst).fill(bytesOf(src));
}
