import type { Packr } from 'msgpackr';
import { MAX_EXACT_SAMPLES, type ExactSums } from '../math/exact.js';
import { jsRowMover } from '../math/row-mover.js';
import { CLASSES, PIXELS, W_LENGTH } from '../math/shape.js';
import type { CoordinatorMessage, HelloMessage, Message, WelcomeMessage, WorkerMessage } from './messages.js';
import type { Reason } from './reasons.js';
import { inert } from './inert.js';
import { nodeBuiltin } from '../runtime/builtin.js';

/**
 * MessagePack encoding of the protocol's messages. Float64/Uint32 arrays travel as MessagePack
 * `bin` holding their raw little-endian bytes (never as arrays of numbers), and every decoded
 * message is validated field by field before anyone sees it: a peer's bytes are hostile until
 * proven otherwise.
 */

/** A message that broke the protocol; `reason` says how the connection is closed. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly reason: Reason,
    message: string,
  ) {
    // Messages quote what a peer sent, and end up in logs and on terminals.
    super(inert(message, 400));
  }
}

let packrMade: Packr | undefined;

/** What the codec needs of msgpackr. */
export type Msgpackr = Pick<typeof import('msgpackr'), 'Packr'>;

let given: Msgpackr | undefined;

/**
 * Gives the codec msgpackr, imported by the caller: how a browser bundle, which cannot require
 * a package at run time, provides it (core's browser entry does, in prepareEngine). Elsewhere the
 * codec requires it itself on first use.
 */
export function useMsgpackr(library: Msgpackr): void {
  given = library;
}

/**
 * The encoder, made on first use: msgpackr (and its native addon, when present) takes 70–95 ms to
 * load, which a process that imports the protocol for its constants or `inert` and sends no
 * message (`train --workers 0`, through the run monitor) should not pay. Records (msgpackr's
 * extension for repeated object shapes) are off: plain, portable MessagePack.
 */
function packr(): Packr {
  if (packrMade === undefined) {
    const { Packr: Made } = given ?? requireMsgpackr();
    packrMade = new Made({ useRecords: false, moreTypes: false });
  }
  return packrMade;
}

/**
 * msgpackr required synchronously where the engine has Node's modules (Node, Bun, Deno; see
 * runtime/builtin.ts).
 */
function requireMsgpackr(): Msgpackr {
  const module = nodeBuiltin<typeof import('node:module')>('node:module');
  if (module === null) throw new Error('the protocol codec has no msgpackr here: call useMsgpackr() with the imported module first');
  return module.createRequire(import.meta.url)('msgpackr') as Msgpackr;
}

/** The longest engine name a hello may carry. */
export const ENGINE_MAX = 64;

/** The largest batch (and so slice) a config allows. */
export const MAX_SLICE = 60_000;
/** Bytes of a message beyond its arrays: keys, numbers, strings (hello's labels are capped). */
const ENVELOPE_BYTES = 1024;

/** The largest frame a coordinator sends for batches of `batchSize`: a task with its weights. */
export function maxTaskBytes(batchSize: number): number {
  return (W_LENGTH + CLASSES) * 8 + 4 * batchSize + ENVELOPE_BYTES;
}

/** The largest frame a worker sends: a result with full sums (a row list only comes with fewer rows). */
export const MAX_RESULT_BYTES = (W_LENGTH + CLASSES) * 8 + PIXELS * 2 + ENVELOPE_BYTES;

/**
 * Storage a peer reuses for the large arrays of the frames it decodes (weights, gradient sums): a
 * peer decoding one such frame per step then allocates nothing for them, which keeps the garbage
 * collector out of the step. A message decoded into it is valid until the next decode into the
 * same storage; a decode that fails may leave any of its arrays half written.
 */
export class DecodeBuffers {
  private readonly arrays = new Map<string, Float64Array>();

  /** The array kept under `key`, of `length` float64 (allocated on first use). */
  f64(key: string, length: number): Float64Array {
    let a = this.arrays.get(key);
    if (a === undefined || a.length < length) {
      a = new Float64Array(length);
      this.arrays.set(key, a);
    }
    return a.length === length ? a : a.subarray(0, length);
  }
}

/** The rows a sparse result sends, gathered here before packing (pack copies them out at once). */
const gathered = new Float64Array(W_LENGTH);

export function encodeMessage(m: Message): Uint8Array {
  switch (m.type) {
    case 'task': {
      const { weights } = m;
      return packr().pack({
        type: m.type,
        task: m.task,
        version: m.version,
        indices: bytesOf(m.indices),
        W: weights === null ? null : bytesOf(weights.W),
        b: weights === null ? null : bytesOf(weights.b),
        // Only when known: a task without it has exactly the keys it had before.
        ...(m.epoch === undefined ? {} : { epoch: m.epoch }),
      });
    }
    case 'result': {
      const { sums, rows } = m;
      let gW = sums.gW;
      if (rows !== null) {
        // Only the listed rows travel, in the order listed.
        gW = gathered.subarray(0, rows.length * CLASSES);
        jsRowMover.gatherRows(rows, rows.length, sums.gW, rows, gW);
      }
      return packr().pack({
        type: m.type,
        task: m.task,
        rows: rows === null ? null : bytesOf(rows),
        gW: bytesOf(gW),
        gb: bytesOf(sums.gb),
        loss: sums.loss,
        correct: sums.correct,
        count: sums.count,
      });
    }
    default:
      return packr().pack(m);
  }
}

/**
 * Decodes and validates a frame a worker sent. Throws ProtocolError, and nothing else. Without
 * `into`, every array of the message is freshly allocated.
 */
export function decodeWorkerMessage(bytes: Uint8Array, into: DecodeBuffers = new DecodeBuffers()): WorkerMessage {
  return guarded(() => workerMessage(unpack(bytes), into));
}

/**
 * Decodes and validates a frame a coordinator sent. Throws ProtocolError, and nothing else.
 * Without `into`, every array of the message is freshly allocated.
 */
export function decodeCoordinatorMessage(bytes: Uint8Array, into: DecodeBuffers = new DecodeBuffers()): CoordinatorMessage {
  return guarded(() => coordinatorMessage(unpack(bytes), into));
}

/** Whatever hostile input makes validation trip over (a BigInt, a cycle), it is a protocol error. */
function guarded<T>(decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError('MALFORMED_MESSAGE', `invalid message: ${e instanceof Error ? e.message : 'unreadable value'}`);
  }
}

function workerMessage(o: Obj, into: DecodeBuffers): WorkerMessage {
  switch (o.type) {
    case 'hello':
    {
      const hello: HelloMessage = {
        type: 'hello',
        protocol: int(o, 'protocol', 0, 2 ** 31),
        dataset: str(o, 'dataset', 128),
        kernel: str(o, 'kernel', 128),
        worker: str(o, 'worker', 256),
      };
      // Optional (see HelloMessage): only a worker thread of the coordinator's process sends it.
      if (Object.hasOwn(o, 'slot')) hello.slot = str(o, 'slot', 64);
      if (Object.hasOwn(o, 'engine')) hello.engine = str(o, 'engine', ENGINE_MAX);
      return hello;
    }
    case 'result': {
      const count = int(o, 'count', 0, MAX_SLICE);
      const rows = o.rows === null ? null : rowList(o, 'rows');
      const bound = 255 * 2 ** 24 * count;
      let gW: Float64Array;
      if (rows === null) gW = f64(o, 'gW', W_LENGTH, bound, into.f64('gW', W_LENGTH));
      else {
        const sent = f64(o, 'gW', rows.length * CLASSES, bound, into.f64('sent', rows.length * CLASSES));
        gW = into.f64('gW', W_LENGTH).fill(0);
        jsRowMover.scatterRows(rows, rows.length, sent, gW);
      }
      const sums: ExactSums = {
        gW,
        gb: f64(o, 'gb', CLASSES, 2 ** 24 * count, into.f64('gb', CLASSES)),
        // Quantised losses are non-negative integers; past 2⁵³ they would no longer be exact.
        loss: intNumber(o, 'loss', 0, 2 ** 53, 'BAD_RESULT'),
        correct: int(o, 'correct', 0, count),
        count,
      };
      return { type: 'result', task: int(o, 'task', 0, Number.MAX_SAFE_INTEGER), sums, rows };
    }
    default:
      throw new ProtocolError('MALFORMED_MESSAGE', `unknown worker message type ${describe(o.type)}`);
  }
}

function coordinatorMessage(o: Obj, into: DecodeBuffers): CoordinatorMessage {
  switch (o.type) {
    case 'welcome':
    {
      const welcome: WelcomeMessage = { type: 'welcome', protocol: int(o, 'protocol', 0, 2 ** 31), workerId: int(o, 'workerId', 0, 2 ** 31) };
      if (Object.hasOwn(o, 'sharedMemory')) welcome.sharedMemory = bool(o, 'sharedMemory');
      return welcome;
    }
    case 'task': {
      const task = int(o, 'task', 0, Number.MAX_SAFE_INTEGER);
      const version = int(o, 'version', 0, Number.MAX_SAFE_INTEGER);
      const indices = u32(o, 'indices', MAX_SLICE);
      // Both weights arrays, or neither.
      const weights =
        field(o, 'W') === null && field(o, 'b') === null
          ? null
          : { W: f64(o, 'W', W_LENGTH, Infinity, into.f64('W', W_LENGTH)), b: f64(o, 'b', CLASSES, Infinity, into.f64('b', CLASSES)) };
      // Optional (see TaskMessage): absent or undefined from coordinators that do not send it.
      if (!Object.hasOwn(o, 'epoch')) return { type: 'task', task, version, indices, weights };
      return { type: 'task', task, version, indices, weights, epoch: int(o, 'epoch', 0, 2 ** 31) };
    }
    case 'bye':
      return { type: 'bye', reason: str(o, 'reason', 64), message: str(o, 'message', 1024) };
    default:
      throw new ProtocolError('MALFORMED_MESSAGE', `unknown coordinator message type ${describe(o.type)}`);
  }
}

type Obj = Record<string, unknown>;

/** A short, safe rendering of a value a peer sent (strings quoted and cut, others by kind). */
function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v;
}

function unpack(bytes: Uint8Array): Obj {
  let o: unknown;
  let end = -1;
  try {
    // Decode the first value only and check where it ended: msgpackr's own trailing-bytes error
    // stringifies the whole decoded value, which a peer could make costly on purpose.
    packr().unpackMultiple(bytes, (value: unknown, _start?: number, stop?: number) => {
      o = value;
      end = stop ?? -1;
      return false;
    });
  } catch (e) {
    throw new ProtocolError('MALFORMED_MESSAGE', `undecodable frame of ${bytes.length} bytes: ${(e as Error).message.slice(0, 200)}`);
  }
  if (end !== bytes.length) throw new ProtocolError('MALFORMED_MESSAGE', `frame of ${bytes.length} bytes has trailing bytes after its message`);
  if (typeof o !== 'object' || o === null || Array.isArray(o) || ArrayBuffer.isView(o)) {
    throw new ProtocolError('MALFORMED_MESSAGE', 'a message must be a MessagePack map');
  }
  return o as Obj;
}

function field(o: Obj, key: string): unknown {
  if (!Object.hasOwn(o, key)) throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: missing "${key}"`);
  return o[key];
}

function int(o: Obj, key: string, min: number, max: number): number {
  const v = field(o, key);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: "${key}" must be an integer in [${min}, ${max}]`);
  }
  return v;
}

/** An integer-valued float64 (exact sums can exceed 2³¹ but never 2⁵³). */
function intNumber(o: Obj, key: string, min: number, max: number, reason: Reason = 'MALFORMED_MESSAGE'): number {
  const v = field(o, key);
  if (typeof v !== 'number') throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: "${key}" must be a number`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ProtocolError(reason, `${describe(o.type)}: "${key}" must be a finite integer in [${min}, ${max}]`);
  }
  return v;
}

function bool(o: Obj, key: string): boolean {
  const v = field(o, key);
  if (typeof v !== 'boolean') throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: "${key}" must be true or false`);
  return v;
}

function str(o: Obj, key: string, maxLength: number): string {
  const v = field(o, key);
  if (typeof v !== 'string' || v.length > maxLength) {
    throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: "${key}" must be a string of at most ${maxLength} characters`);
  }
  // Every string a peer sends is printed somewhere sooner or later.
  return inert(v, maxLength);
}

function bin(o: Obj, key: string, byteLength: number | null, maxBytes: number): Uint8Array {
  const v = field(o, key);
  if (!(v instanceof Uint8Array)) throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: "${key}" must be binary`);
  if ((byteLength !== null && v.byteLength !== byteLength) || v.byteLength > maxBytes) {
    throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: "${key}" has ${v.byteLength} bytes, expected ${byteLength ?? `at most ${maxBytes}`}`);
  }
  return v;
}

/**
 * `length` finite values with |v| ≤ bound, copied out of the frame into `out` (decoded bins are
 * unaligned views into the receive buffer). When `bound` is finite the values must also be
 * integers: exact sums are integer-valued by construction (math/exact.ts).
 */
function f64(o: Obj, key: string, length: number, bound: number, out: Float64Array): Float64Array {
  const raw = bin(o, key, length * 8, length * 8);
  new Uint8Array(out.buffer, out.byteOffset, length * 8).set(raw);
  const exact = Number.isFinite(bound);
  const i = exact ? firstInexact(out, length, bound) : firstNonFinite(out, length);
  if (i >= 0) {
    const v = out[i]!;
    const why = !Number.isFinite(v) ? 'is not finite' : 'is not a possible exact sum';
    throw new ProtocolError(exact ? 'BAD_RESULT' : 'MALFORMED_MESSAGE', `${describe(o.type)}: "${key}"[${i}] = ${v} ${why}`);
  }
  return out;
}

/** The index of the first of a[0, n) that is NaN or infinite, or -1. */
function firstNonFinite(a: Float64Array, n: number): number {
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

/** The index of the first of a[0, n) that is not an integer of magnitude ≤ bound, or -1. */
function firstInexact(a: Float64Array, n: number, bound: number): number {
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (!(Math.abs(v) <= bound) || Math.floor(v) !== v) return i;
  }
  return -1;
}

/** Pixel rows, strictly ascending (so each appears once) and below 784. */
function rowList(o: Obj, key: string): Uint16Array {
  const raw = bin(o, key, null, PIXELS * 2);
  if (raw.byteLength % 2 !== 0) throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: "${key}" is not a whole number of uint16`);
  const rows = new Uint16Array(raw.byteLength / 2);
  new Uint8Array(rows.buffer).set(raw);
  for (let r = 0; r < rows.length; r++) {
    if (rows[r]! >= PIXELS || (r > 0 && rows[r]! <= rows[r - 1]!)) {
      throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: "${key}" must list pixel rows below ${PIXELS} in strictly ascending order`);
    }
  }
  return rows;
}

function u32(o: Obj, key: string, maxLength: number): Uint32Array {
  const raw = bin(o, key, null, maxLength * 4);
  if (raw.byteLength % 4 !== 0) throw new ProtocolError('MALFORMED_MESSAGE', `${describe(o.type)}: "${key}" is not a whole number of uint32`);
  const out = new Uint32Array(raw.byteLength / 4);
  new Uint8Array(out.buffer).set(raw);
  return out;
}

/** The raw bytes of a typed array, little-endian on every platform Node.js supports in practice. */
function bytesOf(a: Float64Array | Uint32Array | Uint16Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

// The exact-sum bound of a slice: fewer samples than MAX_EXACT_SAMPLES keeps every sum exact.
if (MAX_SLICE >= MAX_EXACT_SAMPLES) throw new Error('MAX_SLICE must stay below MAX_EXACT_SAMPLES');
