/**
 * One shared pair of views onto 8 bytes, to read and write the two 32-bit halves of a float64
 * exactly (fdlibm's GET_HIGH_WORD, INSERT_WORDS, …) without allocating per call. The index of the
 * high word is found once, so the same code is right on either byte order.
 */
export const f64 = new Float64Array(1);
export const u32 = new Uint32Array(f64.buffer);
f64[0] = 1; // 0x3FF00000_00000000
/** Index in u32 of the high (sign, exponent, top of mantissa) word. */
export const HI = u32[1] === 0x3ff00000 ? 1 : 0;
/** Index in u32 of the low word. */
export const LO = 1 - HI;
