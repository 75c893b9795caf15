import type { Evaluation } from '../evaluation.js';
import type { Weights } from '../model.js';
import { CLASSES, PIXELS } from '../shape.js';
import type { SparseImages } from '../sparse.js';
import { kernelModule, wasmInstance } from './kernel-module.js';
import { placeInPlace, SCRATCH_PAGES } from './shared-images.js';
import { PAGE, wasmApi } from './wasm-api.js';

/**
 * evaluate() of ../evaluate.ts in the kernel's WebAssembly module (its `evaluate` function): the
 * same logits, argmax, exp, log and sums in the same order, so the same bits; about three times
 * faster than the JS loop, which matters because the test set is evaluated after every epoch.
 * Made once per data set (wasmEvaluator). Images in a shared kernel memory (the loader's training
 * images, which a validation split is evaluated on) are read in place, with the evaluator's own
 * part in a scratch slot there, as the kernel does (shared-images.ts); other images are copied
 * into a memory of the evaluator's own.
 */

// Byte offsets of the evaluator's own part, from its base: W (7840 f64) then b (10 f64) as the
// module reads them, the confusion counts, then sample indices.
const W_AT = 0;
const B_AT = W_AT + 8 * PIXELS * CLASSES;
const CONFUSION_AT = B_AT + 8 * CLASSES;
const INDICES_AT = CONFUSION_AT + 4 * CLASSES * CLASSES;
/** Indices that fit in a scratch slot; a longer subset is evaluated in several calls. */
const SLOT_INDICES = (SCRATCH_PAGES * PAGE - INDICES_AT) >> 2;

/** Gives an evaluator's scratch slot back once the evaluator is garbage. */
const slots = new FinalizationRegistry<() => void>((release) => release());

interface EvaluateExports {
  setup(base: number, offsets: number, pixels: number, values: number, labels: number): void;
  maxU16(at: number, n: number): number;
  maxU8(at: number, n: number): number;
  evaluate(n: number, indexed: number, indicesAt: number, wAt: number, confusionAt: number, loss0: number): [number, number];
}

/** Where an evaluator's memory, own part and data are. */
interface Placement {
  exports: EvaluateExports;
  buffer: ArrayBufferLike;
  base: number;
  /** Indices its own part holds. */
  indices: number;
  offsetsAt: number;
  pixelsAt: number;
  valuesAt: number;
  labelsAt: number;
  release?: () => void;
}

/** The images where they are, in their shared kernel memory, with a slot there; or null. */
function inPlace(data: SparseImages): Placement | null {
  const module = kernelModule();
  const wa = wasmApi();
  const at = module && wa && placeInPlace(data);
  if (!module || !wa || !at) return null;
  const exports = new wa.Instance(module, { env: { memory: at.memory } }).exports as unknown as EvaluateExports;
  return { ...at, exports, buffer: at.memory.buffer, indices: SLOT_INDICES };
}

/** A memory of the evaluator's own: its part at 0, with room for `count` indices, then a copy of the images. */
function copied(data: SparseImages): Placement | null {
  const count = data.count;
  const nnz = data.offsets[count]!;
  const offsetsAt = INDICES_AT + 4 * count;
  const pixelsAt = offsetsAt + 4 * (count + 1);
  const valuesAt = pixelsAt + 2 * nnz;
  const labelsAt = valuesAt + nnz;
  const made = wasmInstance(Math.ceil((labelsAt + count) / PAGE));
  if (made === null) return null;
  const { buffer } = made;
  new Uint32Array(buffer, offsetsAt, count + 1).set(data.offsets.subarray(0, count + 1));
  new Uint16Array(buffer, pixelsAt, nnz).set(data.pixels.subarray(0, nnz));
  new Uint8Array(buffer, valuesAt, nnz).set(data.values.subarray(0, nnz));
  new Uint8Array(buffer, labelsAt, count).set(data.labels.subarray(0, count));
  return { exports: made.exports as unknown as EvaluateExports, buffer, base: 0, indices: count, offsetsAt, pixelsAt, valuesAt, labelsAt };
}

export class WasmEvaluator {
  private readonly exports: EvaluateExports;
  private readonly base: number;
  private readonly W: Float64Array;
  private readonly b: Float64Array;
  private readonly confusion: Uint32Array;
  private readonly indices: Uint32Array;

  /** Throws on data the module cannot trust; wasmEvaluator() returns null then (the JS loop takes it). */
  constructor(
    private readonly data: SparseImages,
    at: Placement,
  ) {
    const count = data.count;
    const nnz = data.offsets[count]!;
    this.exports = at.exports;
    this.base = at.base;
    this.exports.setup(0, at.offsetsAt, at.pixelsAt, at.valuesAt, at.labelsAt);
    // The module trusts its data, as the kernel does (wasm-kernel.ts checks the same).
    for (let i = 0; i < count; i++) {
      if (data.offsets[i + 1]! < data.offsets[i]!) throw new RangeError(`offsets decrease at image ${i}`);
    }
    if (this.exports.maxU16(at.pixelsAt, nnz) >= PIXELS) throw new RangeError('a pixel index is not 0..783');
    if (this.exports.maxU8(at.labelsAt, count) >= CLASSES) throw new RangeError('a label is not 0..9');
    this.W = new Float64Array(at.buffer, at.base + W_AT, PIXELS * CLASSES);
    this.b = new Float64Array(at.buffer, at.base + B_AT, CLASSES);
    this.confusion = new Uint32Array(at.buffer, at.base + CONFUSION_AT, CLASSES * CLASSES);
    this.indices = new Uint32Array(at.buffer, at.base + INDICES_AT, at.indices);
    // Last, once nothing can throw: a failed construction releases the slot itself.
    if (at.release) slots.register(this, at.release);
  }

  evaluate(weights: Weights, indices?: ArrayLike<number>): Evaluation {
    const count = indices ? indices.length : this.data.count;
    if (indices) {
      for (let t = 0; t < count; t++) {
        const i = indices[t]!;
        if (!(Number.isInteger(i) && i >= 0 && i < this.data.count)) throw new RangeError(`evaluate: sample index ${i} is not one of the ${this.data.count} images`);
      }
    }
    this.W.set(weights.W);
    this.b.set(weights.b);
    this.confusion.fill(0);
    const { base } = this;
    let lossSum = 0;
    let correct = 0;
    if (!indices) {
      [lossSum, correct] = this.exports.evaluate(count, 0, 0, base + W_AT, base + CONFUSION_AT, 0);
    } else {
      // In pieces that fit the indices' room, continuing the one running sum.
      for (let from = 0; from < count; from += this.indices.length) {
        const to = Math.min(count, from + this.indices.length);
        for (let t = from; t < to; t++) this.indices[t - from] = indices[t]!;
        const [loss, hits] = this.exports.evaluate(to - from, 1, base + INDICES_AT, base + W_AT, base + CONFUSION_AT, lossSum);
        lossSum = loss;
        correct += hits;
      }
    }
    return {
      lossSum,
      loss: count ? lossSum / count : 0,
      correct,
      count,
      accuracy: count ? correct / count : 0,
      confusion: this.confusion.slice(),
    };
  }
}

const evaluators = new WeakMap<SparseImages, WasmEvaluator | null>();

/** The evaluator of `data`, made on first use; null where the WebAssembly kernel cannot run. */
export function wasmEvaluator(data: SparseImages): WasmEvaluator | null {
  let e = evaluators.get(data);
  if (e === undefined) {
    e = null;
    if (data.offsets.length === data.count + 1 && data.offsets[0] === 0) {
      let at: Placement | null = null;
      try {
        at = inPlace(data) ?? copied(data);
        if (at !== null) e = new WasmEvaluator(data, at);
      } catch {
        at?.release?.();
        e = null;
      }
    }
    evaluators.set(data, e);
  }
  return e;
}
