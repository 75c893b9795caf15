import { HI, LO, f64, u32 } from './ieee-bits.js';

/**
 * The natural logarithm with IEEE basic operations only, so it gives the same bits on every engine
 * and CPU (Math.log is implementation-approximated; see exp.ts for why that matters here).
 *
 * fdlibm's e_log.c as V8 ports it (src/base/ieee754.cc, `log`), operation for operation and in the
 * same order: on V8 builds without fused multiply-add (x64) it equals Math.log bit for bit.
 * kernel.wat has the same function, instruction for instruction.
 *
 * Method (fdlibm): x = 2^k·(1 + f) with √2/2 < 1 + f < √2; s = f/(2 + f);
 * log(1 + f) = f − (hfsq − s·(hfsq + R(s²))) from a degree-14 Remez polynomial R; then
 * log(x) = k·ln2_hi + (f − (hfsq − (s·(hfsq + R) + k·ln2_lo))). Error < 1 ulp.
 */

const LN2_HI = 6.93147180369123816490e-1; // 3FE62E42 FEE00000
const LN2_LO = 1.90821492927058770002e-10; // 3DEA39EF 35793C76
const TWO54 = 1.80143985094819840000e16; // 43500000 00000000
const LG1 = 6.666666666666735130e-1; // 3FE55555 55555593
const LG2 = 3.999999999940941908e-1; // 3FD99999 9997FA04
const LG3 = 2.857142874366239149e-1; // 3FD24924 94229359
const LG4 = 2.222219843214978396e-1; // 3FCC71C5 1D8E78AF
const LG5 = 1.818357216161805012e-1; // 3FC74664 96CB03DE
const LG6 = 1.531383769920937332e-1; // 3FC39A09 D078C69F
const LG7 = 1.479819860511658591e-1; // 3FC2F112 DF3E5244

export function log(x: number): number {
  f64[0] = x;
  let hx = u32[HI]! | 0; // signed, as fdlibm's int32_t
  let k = 0;
  if (hx < 0x00100000) {
    // x < 2^-1022: zero, negative or subnormal.
    if (((hx & 0x7fffffff) | u32[LO]!) === 0) return -Infinity;
    if (hx < 0) return NaN;
    k -= 54;
    x *= TWO54; // scale a subnormal up
    f64[0] = x;
    hx = u32[HI]! | 0;
  }
  if (hx >= 0x7ff00000) return x + x; // +∞ or NaN
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  u32[HI] = hx | (i ^ 0x3ff00000); // normalise x or x/2 (the low word is x's)
  x = f64[0]!;
  k += i >> 20;
  const f = x - 1.0;
  if ((0x000fffff & (2 + hx)) < 3) {
    // −2^-20 ≤ f < 2^-20
    if (f === 0) {
      if (k === 0) return 0;
      const dk = k;
      return dk * LN2_HI + dk * LN2_LO;
    }
    const R = f * f * (0.5 - 0.33333333333333333 * f);
    if (k === 0) return f - R;
    const dk = k;
    return dk * LN2_HI - ((R - dk * LN2_LO) - f);
  }
  const s = f / (2.0 + f);
  const dk = k;
  const z = s * s;
  let j = hx - 0x6147a;
  const w = z * z;
  const m = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  j |= m;
  const R = t2 + t1;
  if (j > 0) {
    const hfsq = 0.5 * f * f;
    if (k === 0) return f - (hfsq - s * (hfsq + R));
    return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
  }
  if (k === 0) return f - s * (f - R);
  return dk * LN2_HI - ((s * (f - R) - dk * LN2_LO) - f);
}
