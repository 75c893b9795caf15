import { sha256 } from '../hash/sha256.js';
import { createKernel, type KernelChoice } from './choose-kernel.js';
import { DELTA_SCALE } from './exact.js';
import { exp } from './exp.js';
import type { KernelFactory } from './kernel-api.js';
import { KERNEL_ID } from './kernel.js';
import { zeroWeights, type Weights } from './model.js';
import { Rng } from './rng.js';
import { CLASSES, PIXELS } from './shape.js';
import type { SparseImages } from './sparse.js';

/**
 * The kernel fingerprint: a hash of what a kernel actually computes on a fixed synthetic probe.
 *
 * Every party of a distributed run must compute the same bits (DESIGN.md §2). A name cannot tell
 * two builds apart whose exp differs in a last bit, so each party runs its kernel, the very one it
 * trains with, on this probe and the handshake compares the hashes. The probe is drawn from a
 * fixed seed and built with IEEE basic operations only, so it is the same everywhere:
 * - images of 0 to 400 nonzero pixels (one empty) with random values, and every label;
 * - weights of training size, weights giving extreme logits (exp underflowing to subnormals and
 *   to 0, losses of 10⁴), tied logits (first-index argmax, equal exponentials), and biases placed
 *   so that a δ·2²⁴ falls within an ulp or two of a rounding half-point, where one ulp of exp
 *   flips the rounded δ;
 * - exp and log of the kernel itself at 4,096 points each across float64.
 * Hashed: every sample's δ (gb of a one-sample batch), loss and hit, each set's whole-batch gW and
 * gb, and the exp and log values, as little-endian float64.
 */

const PROBE_SEED = 0x6b66_7031;
const PROBE_IMAGES = 64;
const HALF_POINT_SETS = 16;

interface Probe {
  images: SparseImages;
  weightSets: Weights[];
  expPoints: Float64Array;
  logPoints: Float64Array;
}

let probeCache: Probe | null = null;
const memo = new Map<KernelChoice, string>();

/** Uniform in [lo, hi) from 32 random bits (exact: a multiple of 2⁻³² scaled). */
function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * (rng.next() / 4294967296);
}

function probeImages(rng: Rng): SparseImages {
  const offsets = new Uint32Array(PROBE_IMAGES + 1);
  const pixels: number[] = [];
  const values: number[] = [];
  const labels = new Uint8Array(PROBE_IMAGES);
  for (let i = 0; i < PROBE_IMAGES; i++) {
    offsets[i] = pixels.length;
    labels[i] = i % CLASSES;
    const nnz = i === 0 ? 0 : rng.below(401);
    const chosen = new Uint8Array(PIXELS);
    for (let n = 0; n < nnz; n++) chosen[rng.below(PIXELS)] = 1;
    for (let p = 0; p < PIXELS; p++) {
      if (chosen[p]) {
        pixels.push(p);
        values.push(1 + rng.below(255));
      }
    }
  }
  offsets[PROBE_IMAGES] = pixels.length;
  return { count: PROBE_IMAGES, offsets, pixels: Uint16Array.from(pixels), values: Uint8Array.from(values), labels };
}

function randomWeights(rng: Rng, wScale: number, bScale: number): Weights {
  const w = zeroWeights();
  for (let i = 0; i < w.W.length; i++) w.W[i] = uniform(rng, -wScale, wScale);
  for (let k = 0; k < CLASSES; k++) w.b[k] = uniform(rng, -bScale, bScale);
  return w;
}

const bitsView = new DataView(new ArrayBuffer(8));

/** The float64 with these high and low words (exact, unlike 2 ** x, which hosts approximate). */
function fromWords(hi: number, lo: number): number {
  bitsView.setUint32(0, hi >>> 0);
  bitsView.setUint32(4, lo >>> 0);
  return bitsView.getFloat64(0);
}

/** softmax(b)_0 · 2²⁴ with the kernel's arithmetic for logits b (W = 0: the logits are b). */
function scaledP0(b: Float64Array): number {
  let max = b[0]!;
  for (let k = 1; k < CLASSES; k++) if (b[k]! > max) max = b[k]!;
  let sum = 0;
  for (let k = 0; k < CLASSES; k++) sum += exp(b[k]! - max);
  return exp(b[0]! - max) * (1 / sum) * DELTA_SCALE;
}

/**
 * Biases with W = 0 whose δ_0·2²⁴ lies next to a half-point n + ½: bisection on b_0 between two
 * values whose scaled p_0 straddle it, down to adjacent doubles.
 */
function halfPointWeights(rng: Rng, zeroW: Float64Array): Weights {
  const w = { W: zeroW, b: new Float64Array(CLASSES) };
  for (let k = 1; k < CLASSES; k++) w.b[k] = uniform(rng, -2, 2);
  let lo = -4;
  let hi = 2;
  w.b[0] = lo;
  const pLo = scaledP0(w.b);
  w.b[0] = hi;
  const pHi = scaledP0(w.b);
  // A half-point strictly between the two ends, drawn from the seed.
  const target = Math.floor(pLo + 1 + (pHi - pLo - 2) * (rng.next() / 4294967296)) + 0.5;
  for (let i = 0; i < 200; i++) {
    const mid = lo + (hi - lo) / 2;
    if (mid === lo || mid === hi) break;
    w.b[0] = mid;
    if (scaledP0(w.b) < target) lo = mid;
    else hi = mid;
  }
  w.b[0] = lo;
  return w;
}

function buildProbe(): Probe {
  const rng = new Rng(PROBE_SEED, 0, 0);
  const images = probeImages(rng);
  const weightSets: Weights[] = [];
  weightSets.push(zeroWeights()); // every logit 0: ten-way ties
  weightSets.push(randomWeights(rng, 0.05, 0.1)); // the scale of trained weights
  weightSets.push(randomWeights(rng, 3, 60)); // large logits: exp of −10² … −10³
  const extreme = randomWeights(rng, 0.02, 1);
  extreme.b.set([1, -700, -710, -720, -730, -740, -743, -746, -1e4, 0]); // subnormal and zero exponentials
  weightSets.push(extreme);
  const tied = randomWeights(rng, 0.05, 0.1);
  for (let p = 0; p < PIXELS; p++) tied.W[p * CLASSES + 7] = tied.W[p * CLASSES + 3]!; // class 7 ties class 3
  tied.b[7] = tied.b[3]!;
  weightSets.push(tied);
  const zeroW = new Float64Array(PIXELS * CLASSES); // read only, shared by the bias-only sets
  for (let s = 0; s < HALF_POINT_SETS; s++) weightSets.push(halfPointWeights(rng, zeroW));
  const expPoints = new Float64Array(4096);
  for (let i = 0; i < expPoints.length; i++) {
    // Uniform where softmax lives, uniform over the whole domain, and negative magnitudes 2⁻⁶⁰ … 2¹⁰.
    const r = i % 4;
    expPoints[i] = r === 3 ? uniform(rng, -750, 710) : r === 2 ? -fromWords(((1023 - 60 + rng.below(70)) << 20) | (rng.next() & 0xfffff), rng.next()) : uniform(rng, -40, 0);
  }
  expPoints.set([0, -0, 1, -1, 0.5, -0.5, Infinity, -Infinity], 0);
  const logPoints = new Float64Array(4096);
  for (let i = 0; i < logPoints.length; i++) {
    // Uniform where the kernel takes logs (Σ e^(z − max) ∈ [1, 10]), and any positive float64.
    logPoints[i] = i % 2 === 0 ? uniform(rng, 1, 10) : fromWords(rng.below(0x7ff00000), rng.next());
  }
  logPoints.set([1, 2, 10, 1 + Number.EPSILON, 1 - Number.EPSILON / 2, 5e-324, Infinity], 0);
  return { images, weightSets, expPoints, logPoints };
}

/** The probe (built once per process). Exported for tests. */
export function kernelProbe(): Probe {
  return (probeCache ??= buildProbe());
}

/** Whether this machine stores numbers little-endian (every platform JavaScript engines run on in practice). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of `values` as little-endian float64, on any platform. */
function littleEndian(values: Float64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const view = new DataView(new ArrayBuffer(values.length * 8));
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return new Uint8Array(view.buffer);
}

/**
 * The fingerprint of a kernel implementation: KERNEL_ID, then 24 hex digits of the SHA-256 of its
 * outputs on the probe (96 bits: short enough that a refusal naming two fits in a close frame).
 * `kernel` is a choice as createKernel takes it (default 'auto', memoized) or a factory of any
 * other Kernel.
 */
export function kernelFingerprint(kernel: KernelChoice | KernelFactory = 'auto'): string {
  if (typeof kernel !== 'function') {
    const known = memo.get(kernel);
    if (known !== undefined) return known;
  }
  const probe = kernelProbe();
  const k = createKernel(probe.images, kernel);
  // Written into a buffer of the exact size: an array grown by push, and the garbage it left,
  // took most of the fingerprint's time (it is taken at every start of a training process).
  const perSet = PROBE_IMAGES * (CLASSES + 3) + PIXELS * CLASSES + CLASSES + 3;
  const out = new Float64Array(probe.weightSets.length * perSet + probe.expPoints.length + probe.logPoints.length);
  let n = 0;
  const push = (values: ArrayLike<number>): void => {
    for (let i = 0; i < values.length; i++) out[n++] = values[i]!;
  };
  const all = Uint32Array.from({ length: PROBE_IMAGES }, (_, i) => i);
  let version = 0;
  for (const weights of probe.weightSets) {
    version++;
    for (let i = 0; i < PROBE_IMAGES; i++) {
      const { sums } = k.compute(all.subarray(i, i + 1), weights, version);
      push(sums.gb);
      out[n++] = sums.loss;
      out[n++] = sums.correct;
      out[n++] = sums.count;
    }
    const { sums } = k.compute(all, weights, version);
    push(sums.gW);
    push(sums.gb);
    out[n++] = sums.loss;
    out[n++] = sums.correct;
    out[n++] = sums.count;
  }
  for (const x of probe.expPoints) out[n++] = k.exp(x);
  for (const x of probe.logPoints) out[n++] = k.log(x);
  if (n !== out.length) throw new Error(`kernelFingerprint: ${n} outputs for ${out.length} places`);
  const fingerprint = `${KERNEL_ID}:${sha256().update(littleEndian(out)).hex().slice(0, 24)}`;
  if (typeof kernel !== 'function') memo.set(kernel, fingerprint);
  return fingerprint;
}
