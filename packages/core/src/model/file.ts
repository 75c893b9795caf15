import { readFileSync } from 'node:fs';
import { parseConfig } from '../config/schema.js';
import { MnistLrError } from '../errors.js';
import { KERNEL_ID } from '../math/kernel.js';
import type { Weights } from '../math/model.js';
import { CLASSES, PIXELS, W_LENGTH } from '../math/shape.js';
import type { TrainConfig } from '../types.js';
import { writeFileAtomic } from './atomic.js';

export const MODEL_FORMAT = 'mnist-lr-model';
export const MODEL_VERSION = 1;

/** A trained model as saved: weights plus what is needed to know where they came from. */
export interface ModelFile {
  /** Config name (the config file's basename). */
  name: string;
  config: TrainConfig;
  /** Fingerprint of the dataset trained on. */
  dataset: string;
  /** Fingerprint of the kernel whose arithmetic produced the weights (kernelFingerprint). */
  kernel: string;
  /** Epochs trained. */
  epochs: number;
  /** Test metrics after the last epoch. */
  testLossSum: number;
  testAccuracy: number;
  weights: Weights;
}

/**
 * JSON text with the weights as base64 of little-endian float64, so that the file is readable,
 * exact to the bit, and byte-identical for identical training (nothing time- or host-dependent).
 */
export function encodeModel(m: ModelFile): string {
  const doc = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    name: m.name,
    config: m.config,
    dataset: m.dataset,
    kernel: m.kernel,
    epochs: m.epochs,
    testLossSum: m.testLossSum,
    testAccuracy: m.testAccuracy,
    shape: [PIXELS, CLASSES],
    W: float64ToBase64(m.weights.W),
    b: float64ToBase64(m.weights.b),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

export function decodeModel(text: string, file: string): ModelFile {
  const bad = (why: string): MnistLrError =>
    new MnistLrError('MODEL_BAD_FILE', `${file}: not a readable mnist-lr model (${why}). Train one with "mnist-lr train".`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw bad(`invalid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || doc.format !== MODEL_FORMAT) throw bad('no "format": "mnist-lr-model"');
  if (doc.version !== MODEL_VERSION) throw bad(`format version ${String(doc.version)}, this build reads ${MODEL_VERSION}`);
  for (const key of ['name', 'dataset', 'kernel', 'W', 'b'] as const) {
    if (typeof doc[key] !== 'string') throw bad(`"${key}" is missing or not a string`);
  }
  for (const key of ['epochs', 'testLossSum', 'testAccuracy'] as const) {
    if (typeof doc[key] !== 'number') throw bad(`"${key}" is missing or not a number`);
  }
  if (!Array.isArray(doc.shape) || doc.shape[0] !== PIXELS || doc.shape[1] !== CLASSES || doc.shape.length !== 2) {
    throw bad(`"shape" must be [${PIXELS}, ${CLASSES}]`);
  }
  let config: TrainConfig;
  try {
    config = parseConfig(doc.config, `${file} (its "config")`);
  } catch (e) {
    throw bad(`its "config" is invalid: ${(e as Error).message}`);
  }
  const W = base64ToFloat64(doc.W as string, W_LENGTH, 'W', bad);
  const b = base64ToFloat64(doc.b as string, CLASSES, 'b', bad);
  return {
    name: doc.name as string,
    config,
    dataset: doc.dataset as string,
    kernel: doc.kernel as string,
    epochs: doc.epochs as number,
    testLossSum: doc.testLossSum as number,
    testAccuracy: doc.testAccuracy as number,
    weights: { W, b },
  };
}

/** Writes a model file atomically (a temporary file renamed into place); OUTPUT_UNWRITABLE naming `path` on failure. */
export function saveModel(path: string, m: ModelFile): void {
  writeFileAtomic(path, encodeModel(m));
}

/** Reads a model file; FILE_UNREADABLE or MODEL_BAD_FILE naming `path` when it cannot be read or is not one. */
export function loadModel(path: string): ModelFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MnistLrError('FILE_UNREADABLE', `cannot read model file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return decodeModel(text, path);
}

export { KERNEL_ID };

function float64ToBase64(a: Float64Array): string {
  const view = new DataView(new ArrayBuffer(a.length * 8));
  for (let i = 0; i < a.length; i++) view.setFloat64(i * 8, a[i]!, true);
  return Buffer.from(view.buffer).toString('base64');
}

function base64ToFloat64(s: string, length: number, key: string, bad: (why: string) => Error): Float64Array {
  // Buffer.from skips characters that are not base64; a damaged file must not load silently.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw bad(`"${key}" is not valid base64`);
  const bytes = Buffer.from(s, 'base64');
  if (bytes.length !== length * 8) throw bad(`"${key}" holds ${bytes.length} bytes, expected ${length * 8}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const v = view.getFloat64(i * 8, true);
    if (!Number.isFinite(v)) throw bad(`"${key}"[${i}] is not finite`);
    out[i] = v;
  }
  return out;
}
