import type { Evaluation } from '../evaluation.js';
import type { ExactSums } from '../exact.js';
import type { BatchSums, Kernel, KernelVariant } from '../kernel-api.js';
import { checkIndices, checkSampleIndices } from '../kernel-api.js';
import type { Weights } from '../model.js';
import type { RowSet } from '../rows.js';
import { clearRows } from '../rows.js';
import type { SparseImages } from '../sparse.js';
import { CLASSES, PIXELS, W_LENGTH } from '../shape.js';
import { jsRowMover, type RowMover } from '../row-mover.js';
import { copyF64 } from '../copy.js';
import { kernelModule, variantModule } from './kernel-module.js';
import { livesIn, placeInPlace, SCRATCH_PAGES } from './shared-images.js';
import { fixedSharedMemory, PAGE, wasmApi, type WasmMemory } from './wasm-api.js';

export { wasmExpLog, wasmKernelAvailable } from './kernel-module.js';

/**
 * The exact kernel of ../kernel.ts and its evaluation in WebAssembly SIMD (kernel.wat): the same
 * arithmetic, the same bits (see kernel.wat for how), about twice as fast. An instance reads the training images in
 * place when they were allocated in a shared kernel memory (loadTrainingData does: see
 * shared-images.ts), and otherwise copies them into a memory of its own. Either way its weights
 * and sums live in a scratch region of its own; the sums and the row set it returns are views
 * onto it, valid until the next call and while the kernel is reachable (a released region goes to
 * the next kernel). The memory only grows by other kernels' slots, so the views stay attached.
 */

interface KernelExports {
  setup(base: number, offsets: number, pixels: number, values: number, labels: number): void;
  weightsAt(at: number): void;
  clear(size: number): void;
  maxU16(at: number, n: number): number;
  maxU8(at: number, n: number): number;
  run(n: number, generation: number, rows: number): number;
  evaluate(n: number, indexed: number, loss0: number): [number, number];
  update(size: number, lr: number, invW: number, invB: number): void;
  exp(x: number): number;
  log(x: number): number;
  gatherRows(listAt: number, n: number, fromAt: number, toListAt: number, toAt: number): void;
  scatterRows(listAt: number, n: number, fromAt: number, toAt: number): void;
  addRows(listAt: number, n: number, fromAt: number, toAt: number): void;
  addAll(fromAt: number, toAt: number): void;
}

// Byte offsets in the scratch region, from its base; kernel.wat has the same numbers.
const W_AT = 0;
const B_AT = 62720;
const GW_AT = 62800;
const GB_AT = 125520;
const ONEHOT_AT = 125760;
const STATS_AT = 126560;
const STAMP_AT = 126576;
const LIST_AT = 129712;
const CONFUSION_AT = 131280;
const BATCH_AT = 131680;
/**
 * Samples per call of run() and indexed evaluate(); longer batches are summed in chunks (exact, see
 * exact.ts, and the same bits: run() carries the sums and the row set over, evaluate() the loss). Small, so that the scratch fits in
 * SCRATCH_PAGES: the call per 8192 samples costs nothing measurable.
 */
const BATCH_CAPACITY = 1 << 13;
const SCRATCH_BYTES = BATCH_AT + 4 * BATCH_CAPACITY;
if (SCRATCH_BYTES > SCRATCH_PAGES * PAGE) throw new Error('wasm-kernel: the scratch layout outgrew SCRATCH_PAGES');

/** Gives a kernel's scratch slot back once the kernel is garbage, for the next kernel to use. */
const slots = new FinalizationRegistry<() => void>((release) => release());

/**
 * Kernels by the W of their resident weights (see residentWeights). A weak map: holding the
 * weights keeps their kernel, and so its scratch slot, alive.
 */
const residents = new WeakMap<Float64Array, WasmKernel>();

/** The kernel whose memory holds `W` as its resident weights (see WasmKernel.residentWeights), if any. */
export function residentKernel(W: Float64Array): WasmKernel | undefined {
  return residents.get(W);
}

/** Where a kernel's memory, scratch and data are. */
interface Placement {
  memory: WasmMemory;
  base: number;
  offsetsAt: number;
  pixelsAt: number;
  valuesAt: number;
  labelsAt: number;
  release?: () => void;
}

/** A memory of the kernel's own: the scratch at 0, then a copy of the data. */
function copied(data: SparseImages, nnz: number): Placement {
  const count = data.count;
  const offsetsAt = SCRATCH_BYTES;
  const pixelsAt = offsetsAt + 4 * (count + 1);
  const valuesAt = pixelsAt + 2 * nnz;
  const labelsAt = valuesAt + nnz;
  const bytes = labelsAt + count;
  if (bytes > 2 ** 31) throw new RangeError('WasmKernel: the data set does not fit in 2 GiB');
  const memory = fixedSharedMemory(wasmApi()!, Math.ceil(bytes / PAGE));
  const buf = memory.buffer;
  new Uint32Array(buf, offsetsAt, count + 1).set(data.offsets.subarray(0, count + 1));
  new Uint16Array(buf, pixelsAt, nnz).set(data.pixels.subarray(0, nnz));
  new Uint8Array(buf, valuesAt, nnz).set(data.values.subarray(0, nnz));
  new Uint8Array(buf, labelsAt, count).set(data.labels.subarray(0, count));
  return { memory, base: 0, offsetsAt, pixelsAt, valuesAt, labelsAt };
}

export class WasmKernel implements Kernel {
  readonly name = 'wasm';
  readonly count: number;
  /** The exp and log run() and evaluate() call: the module's own, or a variant's. */
  readonly exp: (x: number) => number;
  readonly log: (x: number) => number;
  /** The sums of the last compute(): gW and gb are views onto the kernel's memory. */
  readonly sums: ExactSums;
  /** The rows the last compute() touched; stamp and list are views onto the kernel's memory. */
  readonly rows: RowSet;
  /** Moves rows in the module when the arrays live in this kernel's shared memory, else in JS. */
  readonly mover: RowMover;
  private readonly result: BatchSums;
  // The weights the memory holds a copy of: copied again when any of these differ.
  private heldVersion = NaN;
  private heldW: Float64Array | null = null;
  private heldB: Float64Array | null = null;
  /** Whether W and b are a trainer's resident weights (residentWeights): never copied over. */
  private resident = false;
  /** The shared kernel memory the data set lives in (read in place), or null for a memory of our own. */
  private readonly shared: WasmMemory | null;
  /** Where run() reads the weights: this.base (its scratch), or weights elsewhere in the memory. */
  private readingAt: number;
  /** The weights last checked by inPlace(), and its answer: the check runs once per pair of arrays. */
  private checkedW: Float64Array | null = null;
  private checkedB: Float64Array | null = null;
  private checkedAt = -1;
  private readonly base: number;
  /** W in the scratch, where setWeights copies weights. */
  private readonly W: Float64Array;
  private readonly b: Float64Array;
  private readonly batch: Uint32Array;
  private readonly loss: Float64Array;
  private readonly correct: Int32Array;
  private readonly confusion: Uint32Array;
  private readonly exports: KernelExports;

  /**
   * Throws when WebAssembly SIMD is missing or the data do not fit; see wasmKernelAvailable().
   * `variant`: the module built from kernel.wat with exp and log imported, and the two functions
   * (a benchmark's baseline, never for training; see KernelVariant).
   */
  constructor(data: SparseImages, variant?: KernelVariant) {
    if (variant && !variant.wasm) throw new Error('WasmKernel: a variant needs its module (KernelVariant.wasm)');
    const module = variant?.wasm ? variantModule(variant.wasm) : kernelModule();
    const wa = wasmApi();
    if (module === null || wa === null) throw new Error('WebAssembly SIMD is not available');
    const count = data.count;
    const nnz = data.offsets[count]!;
    if (data.offsets.length !== count + 1 || data.labels.length < count || data.pixels.length < nnz || data.values.length < nnz) {
      throw new RangeError('WasmKernel: inconsistent sparse images');
    }
    // The kernel trusts the data: offsets ascending and within the entries (checked here), pixel
    // indices below 784 and labels below 10 (checked where the module reads them, by the module).
    if (data.offsets[0] !== 0) throw new RangeError('WasmKernel: offsets[0] must be 0');
    for (let i = 0; i < count; i++) {
      if (data.offsets[i + 1]! < data.offsets[i]!) throw new RangeError(`WasmKernel: offsets decrease at image ${i}`);
    }
    const at = placeInPlace(data) ?? copied(data, nnz);
    if (at.release) slots.register(this, at.release);
    const { memory, base } = at;
    this.shared = at.release ? memory : null;
    this.base = base;
    this.readingAt = base;
    const buf = memory.buffer;
    const onehot = new Float64Array(buf, base + ONEHOT_AT, CLASSES * CLASSES);
    for (let y = 0; y < CLASSES; y++) onehot[y * CLASSES + y] = 1;

    const env = variant ? { memory, exp: variant.exp, log: variant.log } : { memory };
    const instance = new wa.Instance(module, { env });
    this.exports = instance.exports as unknown as KernelExports;
    this.exports.setup(base, at.offsetsAt, at.pixelsAt, at.valuesAt, at.labelsAt);
    if (this.exports.maxU16(at.pixelsAt, nnz) >= PIXELS) throw new RangeError('WasmKernel: a pixel index is not 0..783');
    if (this.exports.maxU8(at.labelsAt, count) >= CLASSES) throw new RangeError('WasmKernel: a label is not 0..9');

    this.count = count;
    this.W = new Float64Array(buf, base + W_AT, PIXELS * CLASSES);
    this.b = new Float64Array(buf, base + B_AT, CLASSES);
    this.batch = new Uint32Array(buf, base + BATCH_AT, BATCH_CAPACITY);
    this.loss = new Float64Array(buf, base + STATS_AT, 1);
    this.correct = new Int32Array(buf, base + STATS_AT + 8, 1);
    this.confusion = new Uint32Array(buf, base + CONFUSION_AT, CLASSES * CLASSES);
    this.sums = {
      gW: new Float64Array(buf, base + GW_AT, PIXELS * CLASSES),
      gb: new Float64Array(buf, base + GB_AT, CLASSES),
      loss: 0,
      correct: 0,
      count: 0,
    };
    this.rows = { stamp: new Uint32Array(buf, base + STAMP_AT, PIXELS), list: new Uint16Array(buf, base + LIST_AT, PIXELS), size: 0, generation: 1 };
    this.result = { sums: this.sums, rows: this.rows };
    this.exp = variant ? variant.exp : this.exports.exp;
    this.log = variant ? variant.log : this.exports.log;
    this.mover = this.shared === null ? jsRowMover : wasmRowMover(this.exports, this.shared);
  }

  /**
   * Weights that live in this kernel's memory, with the values of `from`: views that a trainer in
   * this thread updates in place. compute() then has nothing to copy, and the optimiser's plain
   * SGD step runs in the module (updateResident). Valid as long as the kernel, which they keep
   * reachable.
   */
  residentWeights(from: Weights): Weights {
    this.setWeights(from);
    residents.set(this.W, this);
    this.resident = true;
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

  /**
   * Where `weights` lie in this kernel's memory when compute() can read them there, laid out as the
   * scratch lays them out (W, then b 62720 bytes on): the byte offset of W, else -1 (they are
   * copied in). Weights in the shared memory the data set lives in are read in place: a
   * coordinator's weights, read by every worker thread of its process without a copy (the run's
   * protocol keeps them unchanged while a step is computed).
   */
  inPlace(weights: Weights): number {
    if (weights.W === this.checkedW && weights.b === this.checkedB) return this.checkedAt;
    const { W, b } = weights;
    const shared = this.shared;
    const fits =
      shared !== null &&
      W.length === PIXELS * CLASSES &&
      b.length === CLASSES &&
      b.byteOffset === W.byteOffset + B_AT - W_AT &&
      W.byteOffset % 8 === 0 &&
      livesIn(W, shared) &&
      livesIn(b, shared);
    this.checkedW = W;
    this.checkedB = b;
    this.checkedAt = fits ? W.byteOffset : -1;
    return this.checkedAt;
  }

  /** Copies the weights into the module's memory. */
  private setWeights(weights: Weights): void {
    if (weights.W.length !== PIXELS * CLASSES || weights.b.length !== CLASSES) {
      throw new RangeError(`weights must be ${PIXELS}×${CLASSES} and ${CLASSES}`);
    }
    // By memcpy where the runtime has Node's Buffer, not word by word as set() copies into a
    // shared memory (see ../copy.ts). A browser copies with set(), and computes one worker's
    // slices only.
    copyF64(this.W, weights.W);
    this.b.set(weights.b);
  }

  /**
   * The exact sums of `batch` (sample indices) into this.sums and this.rows: what accumulate() of
   * ../kernel.ts gives into cleared sums and an emptied row set. See Kernel.compute.
   */
  compute(batch: Uint32Array, weights: Weights, version: number): BatchSums {
    checkIndices(batch, this.count);
    this.useWeights(weights, version);
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

  /** See Kernel.evaluate: the module's evaluate(), with the forward pass of run(). */
  evaluate(weights: Weights, indices?: ArrayLike<number>): Evaluation {
    if (indices) checkSampleIndices(indices, this.count, 'evaluate');
    // No version: weights to copy are copied afresh, and compute() copies again after.
    this.useWeights(weights, NaN);
    const count = indices ? indices.length : this.count;
    this.confusion.fill(0);
    let lossSum = 0;
    let correct = 0;
    if (!indices) {
      [lossSum, correct] = this.exports.evaluate(count, 0, 0);
    } else {
      // In pieces that fit the batch's room, continuing the one running sum.
      for (let from = 0; from < count; from += BATCH_CAPACITY) {
        const to = Math.min(count, from + BATCH_CAPACITY);
        for (let t = from; t < to; t++) this.batch[t - from] = indices[t]!;
        const [loss, hits] = this.exports.evaluate(to - from, 1, lossSum);
        lossSum = loss;
        correct += hits;
      }
    }
    return { lossSum, loss: count ? lossSum / count : 0, correct, count, accuracy: count ? correct / count : 0, confusion: this.confusion.slice() };
  }

  /**
   * Points the module at `weights`: read where they lie in this memory, else copied into the
   * scratch unless it holds them already (the same arrays at the same `version`).
   */
  private useWeights(weights: Weights, version: number): void {
    const resident = this.resident;
    if (resident && (weights.W !== this.W || weights.b !== this.b)) {
      // Copying them in would overwrite the trainer's weights.
      throw new Error('WasmKernel: this kernel holds resident weights; compute with those or use another kernel');
    }
    if (!resident) {
      const at = this.inPlace(weights);
      const readAt = at === -1 ? this.base : at;
      if (readAt !== this.readingAt) {
        this.exports.weightsAt(readAt);
        this.readingAt = readAt;
        // Whatever the scratch held, it was not read meanwhile: copy again when back to copying.
        this.heldVersion = NaN;
      }
      if (at === -1 && (version !== this.heldVersion || weights.W !== this.heldW || weights.b !== this.heldB)) {
        this.setWeights(weights);
        this.heldVersion = version;
        this.heldW = weights.W;
        this.heldB = weights.b;
      }
    }
  }
}

/**
 * A RowMover that moves rows in the kernel's module (80 bytes at a time in SIMD lanes) when every
 * array lives in `memory`, and in JS otherwise.
 */
function wasmRowMover(x: KernelExports, memory: WasmMemory): RowMover {
  // Buffers known to be views of `memory` (this thread's objects for it; one more each time it grows).
  const known = new WeakSet<ArrayBufferLike>();
  const inMemory = (...arrays: ArrayBufferView[]): boolean => {
    for (const a of arrays) {
      if (known.has(a.buffer)) continue;
      if (!livesIn(a, memory)) return false;
      known.add(a.buffer);
    }
    return true;
  };
  return {
    gatherRows(list, n, from, toList, to) {
      if (n <= 0) return;
      if (list.length < n || toList.length < n || from.length < W_LENGTH || to.length < n * CLASSES || !inMemory(list, from, toList, to)) return jsRowMover.gatherRows(list, n, from, toList, to);
      x.gatherRows(list.byteOffset, n, from.byteOffset, toList.byteOffset, to.byteOffset);
    },
    scatterRows(list, n, from, to) {
      if (n <= 0) return;
      if (list.length < n || from.length < n * CLASSES || to.length < W_LENGTH || !inMemory(list, from, to)) return jsRowMover.scatterRows(list, n, from, to);
      x.scatterRows(list.byteOffset, n, from.byteOffset, to.byteOffset);
    },
    addRows(list, n, from, to) {
      if (n <= 0) return;
      if (list.length < n || from.length < n * CLASSES || to.length < W_LENGTH || !inMemory(list, from, to)) return jsRowMover.addRows(list, n, from, to);
      x.addRows(list.byteOffset, n, from.byteOffset, to.byteOffset);
    },
    addAll(from, to) {
      if (from.length < W_LENGTH || to.length < W_LENGTH || !inMemory(from, to)) return jsRowMover.addAll(from, to);
      x.addAll(from.byteOffset, to.byteOffset);
    },
  };
}
