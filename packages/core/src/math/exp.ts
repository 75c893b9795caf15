import { HI, LO, f64, u32 } from './ieee-bits.js';

/**
 * e^x with IEEE basic operations only, so it gives the same bits on every engine and CPU.
 *
 * Math.exp is implementation-approximated in ECMAScript (another engine, C library or a build with
 * fused multiply-add differs in the last bit of a few results in a hundred), and the kernel's δ and
 * loss must not depend on the host. This is fdlibm's e_exp.c as V8 ports it (src/base/ieee754.cc,
 * `exp`), operation for operation and in the same order, so on V8 builds without FMA (x64) it
 * equals Math.exp bit for bit. JS never fuses a multiply and an add, so the port is exact as written.
 * kernel.wat has the same function, instruction for instruction.
 *
 * Method (fdlibm): x = k·ln2 + r with |r| ≤ ln2/2, r = hi − lo; exp(r) from a degree-5 Remez
 * polynomial c(r) as 1 − ((lo − r·c/(2 − c)) − hi); then scale by 2^k. Error < 1 ulp.
 */

const HALF_POS = 0.5;
const HALF_NEG = -0.5;
const O_THRESHOLD = 7.09782712893383973096e2; // 0x40862E42 FEFA39EF
const U_THRESHOLD = -7.45133219101941108420e2; // 0xC0874910 D52D3051
const LN2_HI = 6.93147180369123816490e-1; // 0x3FE62E42 FEE00000
const LN2_LO = 1.90821492927058770002e-10; // 0x3DEA39EF 35793C76
const INV_LN2 = 1.4426950408889633870; // 0x3FF71547 652B82FE
const P1 = 1.66666666666666019037e-1; // 0x3FC55555 5555553E
const P2 = -2.77777777770155933842e-3; // 0xBF66C16C 16BEBD93
const P3 = 6.61375632143793436117e-5; // 0x3F11566A AF25DE2C
const P4 = -1.65339022054652515390e-6; // 0xBEBBBD41 C5D26BF1
const P5 = 4.13813679705723846039e-8; // 0x3E663769 72BEA4D0
const E = 2.718281828459045; // 0x4005BF0A 8B145769: V8 returns it for exp(1), as the formula misses it by one bit
const HUGE = 1.0e300;
const TWOM1000 = 9.33263618503218878990e-302; // 2^-1000
const TWO1023 = 8.988465674311579539e307; // 2^1023

export function exp(x: number): number {
  f64[0] = x;
  let hx = u32[HI]!;
  const xsb = hx >>> 31;
  hx &= 0x7fffffff;

  // Non-finite arguments, overflow and underflow.
  if (hx >= 0x40862e42) {
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | u32[LO]!) !== 0) return x + x; // NaN
      return xsb === 0 ? x : 0;
    }
    if (x > O_THRESHOLD) return HUGE * HUGE;
    if (x < U_THRESHOLD) return TWOM1000 * TWOM1000;
  }

  // Argument reduction.
  let hi = 0;
  let lo = 0;
  let k = 0;
  if (hx > 0x3fd62e42) {
    // |x| > ln2/2
    if (hx < 0x3ff0a2b2) {
      // |x| < 1.5·ln2
      if (x === 1) return E;
      if (xsb === 0) {
        hi = x - LN2_HI;
        lo = LN2_LO;
        k = 1;
      } else {
        hi = x - -LN2_HI;
        lo = -LN2_LO;
        k = -1;
      }
    } else {
      // C's static_cast<int>: truncation towards zero; |invln2·x ± 0.5| < 1100 here.
      k = (INV_LN2 * x + (xsb === 0 ? HALF_POS : HALF_NEG)) | 0;
      const t = k;
      hi = x - t * LN2_HI; // exact: t·LN2_HI has few enough bits
      lo = t * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    // |x| < 2^-28: fdlibm returns 1 + x (after `huge + x > one`, which only raises inexact).
    return 1 + x;
  }

  // x is now in the primary range.
  const t = x * x;
  const c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k === 0) return 1 - ((x * c) / (c - 2.0) - x);
  const y = 1 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k === 1024) return y * 2.0 * TWO1023;
    u32[HI] = (0x3ff00000 + (k << 20)) | 0;
    u32[LO] = 0;
    return y * f64[0]!;
  }
  u32[HI] = 0x3ff00000 + ((k + 1000) << 20);
  u32[LO] = 0;
  return y * f64[0]! * TWOM1000;
}
