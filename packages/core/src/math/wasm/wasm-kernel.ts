import type { ExactSums } from '../exact.js';
import type { BatchSums, Kernel } from '../kernel-api.js';
import { checkIndices } from '../kernel-api.js';
import type { Weights } from '../model.js';
import type { RowSet } from '../rows.js';
import { clearRows } from '../rows.js';
import type { SparseImages } from '../sparse.js';
import { CLASSES, PIXELS } from '../shape.js';
import { KERNEL_HOST_MATH_WASM_BASE64, KERNEL_WASM_BASE64 } from './kernel.wasm.js';

/**
 * The exact kernel of ../kernel.ts in WebAssembly SIMD (kernel.wat): the same arithmetic, the same
 * bits (see kernel.wat for how), about twice as fast. One instance owns one memory holding a copy
 * of the training images, the weights and the sums; the sums and the row set it returns are views
 * onto that memory, valid until the next call. The memory never grows after construction, so the
 * views stay attached.
 */

// The parts of the WebAssembly API used here (lib.dom has them; this package compiles without it).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

interface KernelExports {
  setup(offsets: number, pixels: number, values: number, labels: number): void;
  clear(size: number): void;
  maxU16(at: number, n: number): number;
  maxU8(at: number, n: number): number;
  run(n: number, generation: number, rows: number): number;
  update(size: number, lr: number, invW: number, invB: number): void;
  exp(x: number): number;
  log(x: number): number;
}

// Byte offsets of the fixed part of the memory; kernel.wat has the same numbers.
const W_AT = 0;
const B_AT = 62720;
const GW_AT = 62800;
const GB_AT = 125520;
const ONEHOT_AT = 125760;
const STATS_AT = 126560;
const STAMP_AT = 126576;
const LIST_AT = 129712;
const BATCH_AT = 131280;
/** Samples per call of run(); longer batches are summed in chunks (exact, see exact.ts). */
const BATCH_CAPACITY = 1 << 16;
const PAGE = 65536;

let compiled: object | null | undefined;

/** Kernels by the W of their resident weights (see residentWeights). */
const residents = new WeakMap<Float64Array, WasmKernel>();
let compiledHostMath: object | undefined;

function api(): WasmApi | null {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly ?? null;
}

/** The compiled module, or null where WebAssembly or its SIMD is missing. Compiled once. */
function kernelModule(): object | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  const wa = api();
  if (wa !== null) {
    try {
      const bytes = Uint8Array.from(Buffer.from(KERNEL_WASM_BASE64, 'base64'));
      if (wa.validate(bytes)) compiled = new wa.Module(bytes);
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** The module's own exp and log (the functions the kernel calls), or null where it cannot run. */
export function wasmExpLog(): { exp: (x: number) => number; log: (x: number) => number } | null {
  const module = kernelModule();
  const wa = api();
  if (module === null || wa === null) return null;
  const instance = new wa.Instance(module, { env: { memory: new wa.Memory({ initial: 3, maximum: 3 }) } });
  return { exp: instance.exports.exp as (x: number) => number, log: instance.exports.log as (x: number) => number };
}

/**
 * A fresh instance of the module over its own memory of `pages` 64 KiB pages (for a caller that
 * lays the memory out itself, as wasm-evaluate.ts does), or null where the module cannot run.
 */
export function wasmInstance(pages: number): { exports: Record<string, unknown>; buffer: ArrayBuffer } | null {
  const module = kernelModule();
  const wa = api();
  if (module === null || wa === null) return null;
  const memory = new wa.Memory({ initial: pages, maximum: pages });
  return { exports: new wa.Instance(module, { env: { memory } }).exports, buffer: memory.buffer };
}

/** The kernel whose memory holds `W` as its resident weights (see WasmKernel.residentWeights), if any. */
export function residentKernel(W: Float64Array): WasmKernel | undefined {
  return residents.get(W);
}

/** Whether this runtime can run the WebAssembly kernel (WebAssembly with 128-bit SIMD). */
export function wasmKernelAvailable(): boolean {
  return kernelModule() !== null;
}

export class WasmKernel implements Kernel {
  readonly name = 'wasm';
  readonly count: number;
  /** The module's own exp and log, the ones run() calls. */
  readonly exp: (x: number) => number;
  readonly log: (x: number) => number;
  /** The sums of the last compute(): gW and gb are views onto the kernel's memory. */
  readonly sums: ExactSums;
  /** The rows the last compute() touched; stamp and list are views onto the kernel's memory. */
  readonly rows: RowSet;
  private readonly result: BatchSums;
  // The weights the memory holds a copy of: copied again when any of these differ.
  private heldVersion = NaN;
  private heldW: Float64Array | null = null;
  private heldB: Float64Array | null = null;
  private readonly W: Float64Array;
  private readonly b: Float64Array;
  private readonly batch: Uint32Array;
  private readonly loss: Float64Array;
  private readonly correct: Int32Array;
  private readonly exports: KernelExports;

  /**
   * Throws when WebAssembly SIMD is missing or the data do not fit; see wasmKernelAvailable().
   * `hostMath`: the module variant that calls the host's Math.exp and Math.log instead of its own,
   * whose bits depend on the host: the benchmark's baseline (hostMathKernel), never for training.
   */
  constructor(data: SparseImages, options: { hostMath?: boolean } = {}) {
    let module = kernelModule();
    const wa = api();
    if (module === null || wa === null) throw new Error('WebAssembly SIMD is not available');
    if (options.hostMath) module = compiledHostMath ??= new wa.Module(Uint8Array.from(Buffer.from(KERNEL_HOST_MATH_WASM_BASE64, 'base64')));
    const count = data.count;
    const nnz = data.offsets[count]!;
    if (data.offsets.length !== count + 1 || data.labels.length < count || data.pixels.length < nnz || data.values.length < nnz) {
      throw new RangeError('WasmKernel: inconsistent sparse images');
    }
    // The kernel trusts the data: offsets ascending and within the entries (checked here), pixel
    // indices below 784 and labels below 10 (checked after the copy, in the module).
    if (data.offsets[0] !== 0) throw new RangeError('WasmKernel: offsets[0] must be 0');
    for (let i = 0; i < count; i++) {
      if (data.offsets[i + 1]! < data.offsets[i]!) throw new RangeError(`WasmKernel: offsets decrease at image ${i}`);
    }
    const offsetsAt = BATCH_AT + 4 * BATCH_CAPACITY;
    const pixelsAt = offsetsAt + 4 * (count + 1);
    const valuesAt = pixelsAt + 2 * nnz;
    const labelsAt = valuesAt + nnz;
    const bytes = labelsAt + count;
    if (bytes > 2 ** 31) throw new RangeError('WasmKernel: the data set does not fit in 2 GiB');
    const pages = Math.ceil(bytes / PAGE);
    const memory = new wa.Memory({ initial: pages, maximum: pages });
    const buf = memory.buffer;
    new Uint32Array(buf, offsetsAt, count + 1).set(data.offsets.subarray(0, count + 1));
    new Uint16Array(buf, pixelsAt, nnz).set(data.pixels.subarray(0, nnz));
    new Uint8Array(buf, valuesAt, nnz).set(data.values.subarray(0, nnz));
    new Uint8Array(buf, labelsAt, count).set(data.labels.subarray(0, count));
    const onehot = new Float64Array(buf, ONEHOT_AT, CLASSES * CLASSES);
    for (let y = 0; y < CLASSES; y++) onehot[y * CLASSES + y] = 1;

    const env = options.hostMath ? { memory, exp: Math.exp, log: Math.log } : { memory };
    const instance = new wa.Instance(module, { env });
    this.exports = instance.exports as unknown as KernelExports;
    this.exports.setup(offsetsAt, pixelsAt, valuesAt, labelsAt);
    if (this.exports.maxU16(pixelsAt, nnz) >= PIXELS) throw new RangeError('WasmKernel: a pixel index is not 0..783');
    if (this.exports.maxU8(labelsAt, count) >= CLASSES) throw new RangeError('WasmKernel: a label is not 0..9');

    this.count = count;
    this.W = new Float64Array(buf, W_AT, PIXELS * CLASSES);
    this.b = new Float64Array(buf, B_AT, CLASSES);
    this.batch = new Uint32Array(buf, BATCH_AT, BATCH_CAPACITY);
    this.loss = new Float64Array(buf, STATS_AT, 1);
    this.correct = new Int32Array(buf, STATS_AT + 8, 1);
    this.sums = {
      gW: new Float64Array(buf, GW_AT, PIXELS * CLASSES),
      gb: new Float64Array(buf, GB_AT, CLASSES),
      loss: 0,
      correct: 0,
      count: 0,
    };
    this.rows = { stamp: new Uint32Array(buf, STAMP_AT, PIXELS), list: new Uint16Array(buf, LIST_AT, PIXELS), size: 0, generation: 1 };
    this.result = { sums: this.sums, rows: this.rows };
    this.exp = this.exports.exp;
    this.log = this.exports.log;
  }

  /**
   * Weights that live in this kernel's memory, with the values of `from`: views that a trainer in
   * this thread updates in place. compute() then has nothing to copy, and the optimiser's plain
   * SGD step runs in the module (updateResident). Valid as long as the kernel.
   */
  residentWeights(from: Weights): Weights {
    this.setWeights(from);
    residents.set(this.W, this);
    return { W: this.W, b: this.b };
  }

  /**
   * The plain SGD step of applyUpdate (optimizer.ts) in the module, on resident weights, with the
   * sums and rows of this kernel's last compute(); false (nothing done) for any other arrays.
   */
  updateResident(weights: Weights, sums: ExactSums, rows: RowSet, lr: number, invW: number, invB: number): boolean {
    if (weights.W !== this.W || weights.b !== this.b || sums !== this.sums || rows !== this.rows) return false;
    this.exports.update(rows.size, lr, invW, invB);
    return true;
  }

  /** Copies the weights into the module's memory. */
  private setWeights(weights: Weights): void {
    if (weights.W.length !== PIXELS * CLASSES || weights.b.length !== CLASSES) {
      throw new RangeError(`weights must be ${PIXELS}×${CLASSES} and ${CLASSES}`);
    }
    this.W.set(weights.W);
    this.b.set(weights.b);
  }

  /**
   * The exact sums of `batch` (sample indices) into this.sums and this.rows: what accumulate() of
   * ../kernel.ts gives into cleared sums and an emptied row set. See Kernel.compute.
   */
  compute(batch: Uint32Array, weights: Weights, version: number): BatchSums {
    checkIndices(batch, this.count);
    const resident = residents.get(this.W) === this;
    if (resident && (weights.W !== this.W || weights.b !== this.b)) {
      // Copying them in would overwrite the trainer's weights.
      throw new Error('WasmKernel: this kernel holds resident weights; compute with those or use another kernel');
    }
    if (!resident && (version !== this.heldVersion || weights.W !== this.heldW || weights.b !== this.heldB)) {
      this.setWeights(weights);
      this.heldVersion = version;
      this.heldW = weights.W;
      this.heldB = weights.b;
    }
    const { sums, rows } = this;
    const n = batch.length;
    // Zeroes the rows of gW the previous batch touched (the only nonzero ones), gb, loss, correct.
    this.exports.clear(rows.size);
    clearRows(rows);
    let size = 0;
    for (let from = 0; from < n; from += BATCH_CAPACITY) {
      const to = Math.min(n, from + BATCH_CAPACITY);
      this.batch.set(batch.subarray(from, to));
      size = this.exports.run(to - from, rows.generation, size);
    }
    rows.size = size;
    sums.loss = this.loss[0]!;
    sums.correct = this.correct[0]!;
    sums.count = n;
    return this.result;
  }
}
