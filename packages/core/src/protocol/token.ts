import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two tokens in constant time. Hashing first gives equal-length inputs to
 * timingSafeEqual, so not even the token's length leaks through timing.
 */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
