/**
 * Checkpoint files: everything `runTraining` needs to continue a run bit-exactly, in one file
 * that a crash can never leave torn (written with writeFileAtomic) and whose damage is always
 * detected (a sha256 over the whole content).
 *
 * Layout (format "mnist-lr-checkpoint", version 1; all integers little-endian):
 *
 *   offset 0    20 bytes   magic, the ASCII text "mnist-lr-checkpoint\n"
 *          20   uint32     format version (1)
 *          24   uint32     H, the length of the header
 *          28   H bytes    header: UTF-8 JSON (see CheckpointHeader), then spaces up to a
 *                          multiple of 8 bytes from the start of the file
 *               float64 ×  W (7,840), b (10), then, with momentum, the velocity's W and b:
 *                          raw little-endian IEEE 754 doubles, exact to the bit (-0 included)
 *     end − 32  32 bytes   sha256 of every byte before it
 *
 * The header holds the format name and version again, the config name, the full config (as
 * trained, overrides applied), the dataset fingerprint, the kernel id, and the rest of the
 * TrainState: learning rate, epoch, step, the epoch's exact sums, version, and the metrics of
 * finished epochs (with their seconds). Numbers in the header are JSON numbers, which round-trip
 * every finite double exactly; the few values JSON cannot carry (-0, NaN, ±Infinity) are written
 * as the strings "-0", "NaN", "Infinity", "-Infinity".
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { CONFIG_KEYS, parseConfig } from '../config/schema.js';
import { MnistLrError } from '../errors.js';
import { kernelFingerprint } from '../math/fingerprint.js';
import type { Weights } from '../math/model.js';
import { CLASSES, W_LENGTH } from '../math/shape.js';
import { writeFileAtomic } from '../model/atomic.js';
import type { TrainState } from '../train/state.js';
import type { EpochMetrics, TrainConfig } from '../types.js';

export const CHECKPOINT_FORMAT = 'mnist-lr-checkpoint';
export const CHECKPOINT_VERSION = 1;

const MAGIC = Buffer.from(`${CHECKPOINT_FORMAT}\n`, 'ascii');
const PREFIX = MAGIC.length + 8;
const DIGEST = 32;
/** Float64Arrays are in the host's byte order: copy them as they are where that is the file's. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** A training run frozen between two steps. */
export interface Checkpoint {
  /** Config name (the config file's basename without .json). */
  name: string;
  /** The config as trained, overrides applied. */
  config: TrainConfig;
  /** sha256 fingerprint of the dataset (see data/mnist.ts). */
  dataset: string;
  /** Fingerprint of the kernel whose arithmetic produced the state (kernelFingerprint). */
  kernel: string;
  state: TrainState;
}

/** Metric keys of EpochMetrics, in the order they are written. */
const REQUIRED_METRICS = ['epoch', 'lr', 'trainLoss', 'trainAccuracy', 'testLossSum', 'testLoss', 'testAccuracy', 'seconds'] as const;
const OPTIONAL_METRICS = ['valLossSum', 'valLoss', 'valAccuracy'] as const;

type Num = number | string;

interface CheckpointHeader {
  format: string;
  version: number;
  name: string;
  config: TrainConfig;
  dataset: string;
  kernel: string;
  state: {
    lr: Num;
    epoch: number;
    step: number;
    epochLoss: Num;
    epochCorrect: Num;
    epochCount: Num;
    version: number;
    momentum: boolean;
    history: Array<Record<string, Num>>;
  };
}

/** A double as a JSON value that reads back as the same bits. */
function num(x: number): Num {
  if (Object.is(x, -0)) return '-0';
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return x;
}

function unnum(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  switch (v) {
    case '-0':
      return -0;
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

/** The checkpoint's bytes. Deterministic: the same checkpoint always gives the same bytes. */
export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const s = c.state;
  const header: CheckpointHeader = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    name: c.name,
    config: c.config,
    dataset: c.dataset,
    kernel: c.kernel,
    state: {
      lr: num(s.lr),
      epoch: s.epoch,
      step: s.step,
      epochLoss: num(s.epochLoss),
      epochCorrect: num(s.epochCorrect),
      epochCount: num(s.epochCount),
      version: s.version,
      momentum: s.velocity !== null,
      history: s.history.map((m) => {
        const out: Record<string, Num> = {};
        for (const k of REQUIRED_METRICS) out[k] = num(m[k]);
        for (const k of OPTIONAL_METRICS) if (m[k] !== undefined) out[k] = num(m[k]);
        return out;
      }),
    },
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerLength = json.length + ((8 - ((PREFIX + json.length) % 8)) % 8);
  const arrays = [s.weights.W, s.weights.b, ...(s.velocity ? [s.velocity.W, s.velocity.b] : [])];
  const doubles = arrays.reduce((n, a) => n + a.length, 0);
  const body = PREFIX + headerLength;
  const out = Buffer.alloc(body + doubles * 8 + DIGEST, 0x20);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(CHECKPOINT_VERSION, MAGIC.length);
  out.writeUInt32LE(headerLength, MAGIC.length + 4);
  json.copy(out, PREFIX);
  let o = body;
  for (const a of arrays) {
    if (LITTLE_ENDIAN) Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, o);
    else for (let i = 0; i < a.length; i++) out.writeDoubleLE(a[i]!, o + i * 8);
    o += a.byteLength;
  }
  createHash('sha256').update(out.subarray(0, o)).digest().copy(out, o);
  return out;
}

/**
 * Reads a checkpoint's bytes; `file` names it in errors. Anything short of a complete, intact
 * checkpoint of this format version is refused with CHECKPOINT_BAD.
 */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const bad = (why: string): MnistLrError =>
    new MnistLrError(
      'CHECKPOINT_BAD',
      `${file}: not a usable mnist-lr checkpoint (${why}). Delete it and start over without --resume, or restore a good copy of it.`,
    );
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw bad(buf.length < MAGIC.length && MAGIC.subarray(0, buf.length).equals(buf) ? `truncated to ${buf.length} bytes` : `it does not start with "${CHECKPOINT_FORMAT}"`);
  }
  if (buf.length < PREFIX + DIGEST) throw bad(`truncated to ${buf.length} bytes`);
  const version = buf.readUInt32LE(MAGIC.length);
  if (version !== CHECKPOINT_VERSION) {
    throw bad(`format version ${version}; this build reads version ${CHECKPOINT_VERSION}`);
  }
  const end = buf.length - DIGEST;
  const digest = createHash('sha256').update(buf.subarray(0, end)).digest();
  if (!digest.equals(buf.subarray(end))) {
    throw bad(`its sha256 checksum does not match its content: the file is truncated or damaged (${buf.length} bytes)`);
  }
  const headerLength = buf.readUInt32LE(MAGIC.length + 4);
  if (PREFIX + headerLength > end) throw bad(`its header length ${headerLength} runs past the end`);
  let h: CheckpointHeader;
  try {
    h = JSON.parse(buf.subarray(PREFIX, PREFIX + headerLength).toString('utf8')) as CheckpointHeader;
  } catch (e) {
    throw bad(`its header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof h !== 'object' || h === null || h.format !== CHECKPOINT_FORMAT) throw bad(`its header has no "format": "${CHECKPOINT_FORMAT}"`);
  if (h.version !== CHECKPOINT_VERSION) throw bad(`its header says version ${String(h.version)}`);
  for (const key of ['name', 'dataset', 'kernel'] as const) {
    if (typeof h[key] !== 'string') throw bad(`"${key}" is missing or not a string`);
  }
  let config: TrainConfig;
  try {
    config = parseConfig(h.config, `${file} (its "config")`);
  } catch (e) {
    throw bad(`its "config" is invalid: ${(e as Error).message}`);
  }
  const s = h.state;
  if (typeof s !== 'object' || s === null) throw bad('"state" is missing');
  const int = (key: 'epoch' | 'step' | 'version'): number => {
    const v = s[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`state.${key} must be an integer ≥ 0, got ${JSON.stringify(v)}`);
    return v;
  };
  const double = (v: unknown, what: string): number => {
    const x = unnum(v);
    if (x === undefined) throw bad(`${what} must be a number, got ${JSON.stringify(v)}`);
    return x;
  };
  if (typeof s.momentum !== 'boolean') throw bad('state.momentum must be true or false');
  if (s.momentum !== (config.momentum === 1)) throw bad(`state.momentum is ${s.momentum} but the config has momentum ${config.momentum}`);
  if (!Array.isArray(s.history)) throw bad('state.history must be a list');
  const epoch = int('epoch');
  if (s.history.length !== epoch) throw bad(`state.history has ${s.history.length} epochs, state.epoch says ${epoch}`);
  const history: EpochMetrics[] = s.history.map((m, i) => {
    if (typeof m !== 'object' || m === null) throw bad(`state.history[${i}] is not an object`);
    const out: Partial<EpochMetrics> = {};
    for (const k of REQUIRED_METRICS) out[k] = double(m[k], `state.history[${i}].${k}`);
    for (const k of OPTIONAL_METRICS) if (m[k] !== undefined) out[k] = double(m[k], `state.history[${i}].${k}`);
    return out as EpochMetrics;
  });

  const body = PREFIX + headerLength;
  const doubles = (W_LENGTH + CLASSES) * (s.momentum ? 2 : 1);
  if (end - body !== doubles * 8) throw bad(`its arrays hold ${end - body} bytes, expected ${doubles * 8}`);
  let o = body;
  const read = (n: number): Float64Array => {
    const a = new Float64Array(n);
    if (LITTLE_ENDIAN) buf.copy(Buffer.from(a.buffer), 0, o, o + n * 8);
    else for (let i = 0; i < n; i++) a[i] = buf.readDoubleLE(o + i * 8);
    o += n * 8;
    return a;
  };
  const weights: Weights = { W: read(W_LENGTH), b: read(CLASSES) };
  const velocity: Weights | null = s.momentum ? { W: read(W_LENGTH), b: read(CLASSES) } : null;
  return {
    name: h.name,
    config,
    dataset: h.dataset,
    kernel: h.kernel,
    state: {
      weights,
      velocity,
      lr: double(s.lr, 'state.lr'),
      epoch,
      step: int('step'),
      epochLoss: double(s.epochLoss, 'state.epochLoss'),
      epochCorrect: double(s.epochCorrect, 'state.epochCorrect'),
      epochCount: double(s.epochCount, 'state.epochCount'),
      history,
      version: int('version'),
    },
  };
}

/** Writes the checkpoint atomically (temporary file, fsync, rename, fsync of the folder). Returns its size. */
export function saveCheckpoint(path: string, c: Checkpoint): number {
  const bytes = encodeCheckpoint(c);
  writeFileAtomic(path, bytes);
  return bytes.length;
}

/** Reads and checks a checkpoint file: FILE_UNREADABLE when it cannot be read, CHECKPOINT_BAD when damaged. */
export function loadCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : (code ?? (e as Error).message);
    throw new MnistLrError(
      'FILE_UNREADABLE',
      `cannot read checkpoint ${path} (${why}): nothing to resume there; run without --resume to start a fresh run`,
      { cause: e },
    );
  }
  return decodeCheckpoint(bytes, path);
}

export interface ResumeTarget {
  /** The config the run is to continue with (overrides applied). */
  config: TrainConfig;
  /** Fingerprint of the dataset loaded now. */
  dataset: string;
  /** Config name of the run. */
  name: string;
  /** Where `config` came from, for messages: "configs/config_1.json". Default "the config". */
  source?: string;
  /** The checkpoint's path, for messages. */
  file?: string;
  /** Kernel fingerprint of this build. Default kernelFingerprint(). */
  kernel?: string;
}

/**
 * Refuses, with CHECKPOINT_MISMATCH naming what differs, to continue `c` as the run `target`
 * describes: another config name, dataset, kernel, or any config value. One exception:
 * num_epoches may differ (raise it to train a finished run longer, or lower it), as long as it
 * still covers the epochs the checkpoint has started; it changes no arithmetic of the epochs
 * before it.
 */
export function checkCompatible(c: Checkpoint, target: ResumeTarget): void {
  const file = target.file ?? 'the checkpoint';
  const source = target.source ?? 'the config';
  const mismatch = (what: string): MnistLrError =>
    new MnistLrError('CHECKPOINT_MISMATCH', `${file} cannot be resumed by this run: ${what}. Resume with the same config and data, or start over without --resume.`);
  if (c.name !== target.name) throw mismatch(`it is a checkpoint of ${c.name}, not of ${target.name}`);
  if (c.dataset !== target.dataset) {
    throw mismatch(`it was trained on dataset sha256 ${c.dataset.slice(0, 12)}…, the data loaded now is ${target.dataset.slice(0, 12)}…`);
  }
  const kernel = target.kernel ?? kernelFingerprint();
  if (c.kernel !== kernel) throw mismatch(`it was computed by kernel ${c.kernel}, this build has ${kernel}`);
  for (const key of CONFIG_KEYS) {
    if (key === 'num_epoches') continue;
    if (!Object.is(c.config[key], target.config[key])) {
      throw mismatch(`${key} ${String(c.config[key])} in the checkpoint, ${String(target.config[key])} in ${source}`);
    }
  }
  const started = c.state.epoch + (c.state.step > 0 ? 1 : 0);
  if (target.config.num_epoches < started) {
    throw mismatch(
      `it has ${c.state.step > 0 ? `started epoch ${started}` : `finished ${started} epochs`}, more than num_epoches ${target.config.num_epoches} in ${source}; ` +
        `pass --epochs ${started} or more`,
    );
  }
}
