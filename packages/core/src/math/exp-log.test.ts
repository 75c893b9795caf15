import { describe, expect, it } from 'vitest';
import { exp } from './exp.js';
import { log } from './log.js';
import { Rng } from './rng.js';
import { wasmExpLog } from './wasm/wasm-kernel.js';

/**
 * Our exp and log against the host's and against the WebAssembly module's, on 10⁷ points each
 * across the range the kernel and evaluation use them in (and beyond it, to the edges of float64).
 */

const N = 10_000_000;
const bits = new Float64Array(1);
const words = new BigInt64Array(bits.buffer);

/** Units in the last place between a and b (both finite or equal). */
function ulps(a: number, b: number): number {
  if (Object.is(a, b)) return 0;
  bits[0] = a;
  const ia = words[0]!;
  bits[0] = b;
  const ib = words[0]!;
  const d = ia - ib;
  return Number(d < 0n ? -d : d);
}

/**
 * exp's arguments: z − max ≤ 0 in the kernel, so mostly [−40, 0] (where softmax terms live), then
 * log-uniform magnitudes out to the underflow threshold and beyond (subnormal results, 0), and a
 * few positive ones.
 */
function expArgument(rng: Rng, i: number): number {
  const u = rng.next() / 4294967296;
  switch (i % 4) {
    case 0:
    case 1:
      return -40 * u;
    case 2:
      return -(2 ** (-30 + 40 * u)); // −2^-30 … −2^10: 0 down to below −745
    default:
      return (i & 4 ? 1 : -1) * 710 * u;
  }
}

/** log's arguments: Σ e^(z − max) ∈ [1, 10] in the kernel and evaluation; then all of float64. */
function logArgument(rng: Rng, i: number): number {
  const u = rng.next() / 4294967296;
  if (i % 2 === 0) return 1 + 9 * u;
  return 2 ** (-1074 + 2098 * u); // subnormals to near the largest float64
}

describe('exp and log of our own', () => {
  it('equal the host Math.exp and Math.log on 10⁷ points each (fdlibm, as V8 ports it), never more than 1 ulp apart', () => {
    const rng = new Rng(8, 1, 0);
    let expDiffer = 0;
    let logDiffer = 0;
    let worst = 0;
    for (let i = 0; i < N; i++) {
      const x = expArgument(rng, i);
      const d = ulps(exp(x), Math.exp(x));
      if (d !== 0) expDiffer++;
      if (d > worst) worst = d;
      const y = logArgument(rng, i);
      const e = ulps(log(y), Math.log(y));
      if (e !== 0) logDiffer++;
      if (e > worst) worst = e;
    }
    console.log(`exp: ${expDiffer} of ${N} differ from Math.exp; log: ${logDiffer} of ${N} differ from Math.log (${process.arch}, V8 ${process.versions.v8})`);
    expect(worst).toBeLessThanOrEqual(1);
    // V8 computes Math.exp and Math.log with the same fdlibm port; where V8 was built without
    // fused multiply-add (x64), a faithful port gives every bit.
    if (process.arch === 'x64') {
      expect(expDiffer).toBe(0);
      expect(logDiffer).toBe(0);
    }
  });

  it('keep fdlibm special values', () => {
    expect(exp(0)).toBe(1);
    expect(Object.is(exp(-Infinity), 0)).toBe(true);
    expect(exp(Infinity)).toBe(Infinity);
    expect(exp(710)).toBe(Infinity);
    expect(Object.is(exp(-746), 0)).toBe(true);
    expect(exp(1)).toBe(Math.E);
    expect(exp(NaN)).toBeNaN();
    expect(log(1)).toBe(0);
    expect(log(0)).toBe(-Infinity);
    expect(log(-0)).toBe(-Infinity);
    expect(log(-1)).toBeNaN();
    expect(log(Infinity)).toBe(Infinity);
    expect(log(NaN)).toBeNaN();
    expect(log(5e-324)).toBe(-744.4400719213812);
  });

  it('are the same bits in JS and in the WebAssembly kernel, on the same 10⁷ points', () => {
    const wasm = wasmExpLog();
    expect(wasm, 'WebAssembly SIMD is available on this runtime').not.toBeNull();
    const { exp: wexp, log: wlog } = wasm!;
    const rng = new Rng(8, 1, 0);
    let differ = 0;
    for (let i = 0; i < N; i++) {
      const x = expArgument(rng, i);
      if (!Object.is(exp(x), wexp(x))) differ++;
      const y = logArgument(rng, i);
      if (!Object.is(log(y), wlog(y))) differ++;
    }
    for (const x of [0, -0, 1, -1, 0.5, -0.5, 2 ** -29, -(2 ** -29), -708.5, -740, -745.2, 709.7, 710, Infinity, -Infinity]) {
      expect(Object.is(exp(x), wexp(x)), `exp(${x})`).toBe(true);
    }
    for (const y of [0, -0, 1, 1 + 2 ** -52, 1 - 2 ** -53, 2, 10, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, Infinity]) {
      expect(Object.is(log(y), wlog(y)), `log(${y})`).toBe(true);
    }
    expect(differ).toBe(0);
  });
});
