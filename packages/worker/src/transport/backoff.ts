/**
 * Bounded exponential backoff with full jitter: delay n is uniform in [0, min(max, initial·2ⁿ)].
 * Jitter keeps many workers from reconnecting in lockstep after a coordinator restart. The
 * randomness only spreads reconnections in time; it never touches training arithmetic.
 */
export interface RetryPolicy {
  /** Most connection attempts in a row without a successful handshake. Default 60. */
  attempts: number;
  /** First delay, milliseconds. Default 100. */
  initialDelayMs: number;
  /** Largest delay, milliseconds. Default 2000. */
  maxDelayMs: number;
  /** Give up when no handshake succeeded for this long, milliseconds. Default 60000. */
  totalMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 60, initialDelayMs: 100, maxDelayMs: 2000, totalMs: 60_000 };

export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * cap);
}
