/**
 * Training images that every WebAssembly kernel, in every thread, reads in place.
 *
 * A WebAssembly instance can only address its own memory (and Node 20's V8 has one memory per
 * module), so a kernel over ordinary arrays copies the whole data set into a memory of its own:
 * 28 MiB of MNIST per kernel, one per worker thread. Here the loader allocates the sparse arrays
 * inside a shared WebAssembly.Memory instead (its buffer is a SharedArrayBuffer, so threads given
 * the arrays share them as before) and hands the memory along with them (SparseImages.memory;
 * structured clone carries a shared memory to a worker thread). A kernel over these arrays imports
 * that memory and only needs a small scratch region of its own, a slot the memory grows by when
 * the kernel is made (claimScratch).
 *
 * Layout: a header (a random tag, then one state word per scratch slot), the arrays, then the
 * scratch slots, SCRATCH_PAGES pages each, in the order they were made.
 */
import { allocSparse, type SparseImages } from '../sparse.js';
import { PAGE, wasmApi, type WasmMemory } from './wasm-api.js';
import { wasmKernelAvailable } from './kernel-module.js';

/** Pages of one kernel's scratch (wasm-kernel.ts checks its layout fits). */
export const SCRATCH_PAGES = 3;
/**
 * Kernels that can share one data set at a time. Each slot costs address space only until used
 * (about 130 KiB of it is then touched); kernels beyond this many copy the data as before.
 */
const MAX_SLOTS = 64;
// The header's 32-bit words: random ones that identify the memory (kernelMemoryOf), the number
// of pages before the first slot, and one state word per slot.
const TAG_WORDS = 4;
const DATA_PAGES_WORD = TAG_WORDS;
const STATES_WORD = TAG_WORDS + 1;
const HEADER_BYTES = 4 * (STATES_WORD + MAX_SLOTS);
// A slot's state word: 0 until the slot is made (the memory's initial zeros), then:
const IN_USE = 1;
const FREE = 2;

/**
 * Empty sparse images like allocSparse's, inside a shared WebAssembly memory (see above); where
 * the WebAssembly kernel cannot run, allocSparse's.
 */
export function allocKernelImages(count: number, nnz: number): SparseImages {
  const wa = wasmApi();
  if (wa === null || !wasmKernelAvailable()) return allocSparse(count, nnz);
  // Offsets first (4-byte aligned), then the 2-byte pixel indices, then the bytes.
  const offsetsAt = HEADER_BYTES;
  const pixelsAt = offsetsAt + 4 * (count + 1);
  const valuesAt = pixelsAt + 2 * nnz;
  const labelsAt = valuesAt + nnz;
  const pages = Math.ceil((labelsAt + count) / PAGE);
  if (pages + MAX_SLOTS * SCRATCH_PAGES > 65536) return allocSparse(count, nnz);
  const memory = new wa.Memory({ initial: pages, maximum: pages + MAX_SLOTS * SCRATCH_PAGES, shared: true });
  const buffer = memory.buffer;
  const header = new Int32Array(buffer, 0, STATES_WORD);
  header.set(globalThis.crypto.getRandomValues(new Int32Array(TAG_WORDS)));
  header[DATA_PAGES_WORD] = pages;
  return {
    count,
    offsets: new Uint32Array(buffer, offsetsAt, count + 1),
    pixels: new Uint16Array(buffer, pixelsAt, nnz),
    values: new Uint8Array(buffer, valuesAt, nnz),
    labels: new Uint8Array(buffer, labelsAt, count),
    memory,
  };
}

/**
 * The memory `data`'s four arrays live in, or null when they do not all live in data.memory: data
 * of another origin, or copied with some arrays replaced ({ ...data, labels: other }), which a
 * kernel must not read from the memory.
 */
export function kernelMemoryOf(data: SparseImages): WasmMemory | null {
  const memory = data.memory;
  if (memory === undefined || !isShared(memory.buffer) || memory.buffer.byteLength < HEADER_BYTES) return null;
  for (const array of [data.offsets, data.pixels, data.values, data.labels]) {
    if (!livesIn(array, memory)) return null;
  }
  return memory;
}

/**
 * Whether `array` is a view onto the shared kernel memory `memory`, past its header. In another
 * thread, or after the memory grew, the same memory has another SharedArrayBuffer object: the
 * random tag at the start of the memory tells them apart.
 */
export function livesIn(array: ArrayBufferView, memory: WasmMemory): boolean {
  const buffer = array.buffer;
  if (!isShared(buffer) || !isShared(memory.buffer) || buffer.byteLength < HEADER_BYTES || array.byteOffset < HEADER_BYTES) return false;
  if (buffer === memory.buffer) return true;
  const tag = new Int32Array(memory.buffer, 0, TAG_WORDS);
  const own = new Int32Array(buffer, 0, TAG_WORDS);
  for (let w = 0; w < TAG_WORDS; w++) if (own[w] !== tag[w]) return false;
  return true;
}

function isShared(buffer: ArrayBufferLike): boolean {
  return Object.prototype.toString.call(buffer) === '[object SharedArrayBuffer]';
}

/** A scratch slot: its first byte, and how to give it back. */
export interface ScratchSlot {
  base: number;
  release(): void;
}

/**
 * A zeroed scratch slot of SCRATCH_PAGES pages in `memory` (from kernelMemoryOf), for the life of
 * one kernel: a released one, else a new one the memory grows by. Null when all MAX_SLOTS are in
 * use. Safe from any thread: slots are claimed with atomic operations on their state words.
 */
export function claimScratch(memory: WasmMemory): ScratchSlot | null {
  const dataPages = new Int32Array(memory.buffer, 0, STATES_WORD)[DATA_PAGES_WORD]!;
  const states = new Int32Array(memory.buffer, 4 * STATES_WORD, MAX_SLOTS);
  const slot = (k: number): ScratchSlot => ({
    base: (dataPages + k * SCRATCH_PAGES) * PAGE,
    release: () => void Atomics.store(states, k, FREE),
  });
  for (let k = 0; k < MAX_SLOTS; k++) {
    if (Atomics.compareExchange(states, k, FREE, IN_USE) === FREE) {
      const reused = slot(k);
      new Uint8Array(memory.buffer, reused.base, SCRATCH_PAGES * PAGE).fill(0);
      return reused;
    }
  }
  let before: number;
  try {
    before = memory.grow(SCRATCH_PAGES);
  } catch {
    return null; // at the maximum: MAX_SLOTS slots in use
  }
  // Every growth is one slot's, so this one's index follows from the size before it.
  const k = (before - dataPages) / SCRATCH_PAGES;
  Atomics.store(states, k, IN_USE);
  return slot(k);
}

/** Where a data set lies in its shared kernel memory, and the scratch slot claimed there. */
export interface InPlace {
  memory: WasmMemory;
  /** The slot's first byte. */
  base: number;
  offsetsAt: number;
  pixelsAt: number;
  valuesAt: number;
  labelsAt: number;
  /** Gives the slot back. */
  release(): void;
}

/**
 * `data`'s addresses in its shared kernel memory, with a scratch slot claimed there for one
 * kernel; null when the data do not live in such a memory or no slot is free.
 */
export function placeInPlace(data: SparseImages): InPlace | null {
  const memory = kernelMemoryOf(data);
  const slot = memory && claimScratch(memory);
  if (!memory || !slot) return null;
  const { offsets, pixels, values, labels } = data;
  return { memory, base: slot.base, offsetsAt: offsets.byteOffset, pixelsAt: pixels.byteOffset, valuesAt: values.byteOffset, labelsAt: labels.byteOffset, release: slot.release };
}

/** A region of a shared kernel memory: its buffer (this thread's object for the memory) and first byte. */
export interface SharedRegion {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  /** The region's size: SCRATCH_PAGES pages. */
  byteLength: number;
  /** Gives the region back. */
  release(): void;
}

/**
 * A zeroed region of the shared memory `data` lives in, for buffers that kernels in any thread
 * must read and write with their module (the shared-memory data plane's weights board and
 * results); null when the data do not live in such a memory or no slot is free.
 */
export function claimSharedRegion(data: SparseImages): SharedRegion | null {
  const memory = kernelMemoryOf(data);
  const slot = memory && claimScratch(memory);
  if (!memory || !slot) return null;
  return { buffer: memory.buffer as SharedArrayBuffer, byteOffset: slot.base, byteLength: SCRATCH_PAGES * PAGE, release: slot.release };
}
