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

/**
 * The credentials of an `Authorization: Bearer …` header, or undefined when the header is absent
 * or names another scheme. One parser for every door (the worker upgrade, the dashboard), so
 * that a client admitted by one is admitted by the other: the scheme is matched in any case
 * (RFC 7235 §2.1), and the spaces around the token are dropped.
 */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +(.*)$/is.exec(header);
  return match ? match[1]!.trim() : undefined;
}
