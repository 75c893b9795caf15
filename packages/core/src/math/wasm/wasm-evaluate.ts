import type { Evaluation } from '../evaluation.js';
import type { Weights } from '../model.js';
import { CLASSES, PIXELS } from '../shape.js';
import type { SparseImages } from '../sparse.js';
import { wasmInstance } from './kernel-module.js';

/**
 * evaluate() of ../evaluate.ts in the kernel's WebAssembly module (its `evaluate` function): the
 * same logits, argmax, exp, log and sums in the same order, so the same bits; about four times
 * faster than the JS loop, which matters because the test set is evaluated after every epoch.
 * An evaluator owns a memory holding a copy of its images, laid out as below, and is made once
 * per data set (wasmEvaluator).
 */

// Byte offsets of the memory's fixed part: W (7840 f64) then b (10 f64) as the module reads them.
const W_AT = 0;
const B_AT = W_AT + 8 * PIXELS * CLASSES;
const CONFUSION_AT = B_AT + 8 * CLASSES;
const INDICES_AT = CONFUSION_AT + 4 * CLASSES * CLASSES;
const PAGE = 65536;

interface EvaluateExports {
  setup(base: number, offsets: number, pixels: number, values: number, labels: number): void;
  maxU16(at: number, n: number): number;
  maxU8(at: number, n: number): number;
  evaluate(n: number, indexed: number, indicesAt: number, wAt: number, confusionAt: number): [number, number];
}

export class WasmEvaluator {
  private readonly exports: EvaluateExports;
  private readonly W: Float64Array;
  private readonly b: Float64Array;
  private readonly confusion: Uint32Array;
  private readonly indices: Uint32Array;

  /** Throws on data the module cannot trust; wasmEvaluator() returns null then (the JS loop takes it). */
  constructor(
    private readonly data: SparseImages,
    instantiate: (pages: number) => { exports: Record<string, unknown>; buffer: ArrayBufferLike },
  ) {
    const count = data.count;
    const nnz = data.offsets[count]!;
    // Indices of a subset (a validation split) fit in count entries.
    const offsetsAt = INDICES_AT + 4 * count;
    const pixelsAt = offsetsAt + 4 * (count + 1);
    const valuesAt = pixelsAt + 2 * nnz;
    const labelsAt = valuesAt + nnz;
    const { exports, buffer } = instantiate(Math.ceil((labelsAt + count) / PAGE));
    new Uint32Array(buffer, offsetsAt, count + 1).set(data.offsets.subarray(0, count + 1));
    new Uint16Array(buffer, pixelsAt, nnz).set(data.pixels.subarray(0, nnz));
    new Uint8Array(buffer, valuesAt, nnz).set(data.values.subarray(0, nnz));
    new Uint8Array(buffer, labelsAt, count).set(data.labels.subarray(0, count));
    this.exports = exports as unknown as EvaluateExports;
    this.exports.setup(0, offsetsAt, pixelsAt, valuesAt, labelsAt);
    // The module trusts its data, as the kernel does (wasm-kernel.ts checks the same).
    for (let i = 0; i < count; i++) {
      if (data.offsets[i + 1]! < data.offsets[i]!) throw new RangeError(`offsets decrease at image ${i}`);
    }
    if (this.exports.maxU16(pixelsAt, nnz) >= PIXELS) throw new RangeError('a pixel index is not 0..783');
    if (this.exports.maxU8(labelsAt, count) >= CLASSES) throw new RangeError('a label is not 0..9');
    this.W = new Float64Array(buffer, W_AT, PIXELS * CLASSES);
    this.b = new Float64Array(buffer, B_AT, CLASSES);
    this.confusion = new Uint32Array(buffer, CONFUSION_AT, CLASSES * CLASSES);
    this.indices = new Uint32Array(buffer, INDICES_AT, count);
  }

  evaluate(weights: Weights, indices?: ArrayLike<number>): Evaluation {
    const count = indices ? indices.length : this.data.count;
    if (indices) {
      if (count > this.indices.length) throw new RangeError(`evaluate: ${count} indices for ${this.data.count} images`);
      for (let t = 0; t < count; t++) {
        const i = indices[t]!;
        if (!(Number.isInteger(i) && i >= 0 && i < this.data.count)) throw new RangeError(`evaluate: sample index ${i} is not one of the ${this.data.count} images`);
        this.indices[t] = i;
      }
    }
    this.W.set(weights.W);
    this.b.set(weights.b);
    this.confusion.fill(0);
    const [lossSum, correct] = this.exports.evaluate(count, indices ? 1 : 0, INDICES_AT, W_AT, CONFUSION_AT);
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
      try {
        e = new WasmEvaluator(data, (pages) => {
          const made = wasmInstance(pages);
          if (made === null) throw new Error('WebAssembly SIMD is not available');
          return made;
        });
      } catch {
        e = null;
      }
    }
    evaluators.set(data, e);
  }
  return e;
}
