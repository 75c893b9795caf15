/**
 * Slows down repeated failed authentications from one address: the first `freeFailures` are
 * answered at once, then each further refusal waits twice as long as the one before, up to
 * `maxDelayMs`. A guesser gets a few tries a minute instead of thousands a second; a worker with
 * a typo in its token still learns at once. Addresses are forgotten after `forgetAfterMs` without
 * failures, and at most `maxTracked` are remembered, so the table cannot be grown without bound.
 */
export interface AuthLimiterOptions {
  /** Failures answered without delay. Default 3. */
  freeFailures: number;
  /** Delay after the first delayed failure, milliseconds. Default 250. */
  baseDelayMs: number;
  /** Longest delay, milliseconds. Default 10000. */
  maxDelayMs: number;
  /** Forget an address after this long without a failure, milliseconds. Default 600000. */
  forgetAfterMs: number;
  /** Addresses remembered at most. Default 10000. */
  maxTracked: number;
}

const DEFAULT_AUTH_LIMITS: AuthLimiterOptions = { freeFailures: 3, baseDelayMs: 250, maxDelayMs: 10_000, forgetAfterMs: 600_000, maxTracked: 10_000 };

export class AuthLimiter {
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(
    private readonly options: AuthLimiterOptions = DEFAULT_AUTH_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts a failure from `address`; returns how many so far and how long to delay the answer. */
  fail(address: string): { count: number; delayMs: number } {
    const t = this.now();
    let entry = this.failures.get(address);
    if (entry && t - entry.last > this.options.forgetAfterMs) entry = undefined;
    if (!entry) {
      if (this.failures.size >= this.options.maxTracked) this.prune(t);
      entry = { count: 0, last: t };
    }
    entry.count++;
    entry.last = t;
    // Re-insert so that the map stays in least-recently-failed order for pruning.
    this.failures.delete(address);
    this.failures.set(address, entry);
    const over = entry.count - this.options.freeFailures;
    const delayMs = over <= 0 ? 0 : Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(over - 1, 20));
    return { count: entry.count, delayMs };
  }

  /** A successful authentication clears the address's record. */
  succeed(address: string): void {
    this.failures.delete(address);
  }

  private prune(t: number): void {
    for (const [address, entry] of this.failures) {
      if (this.failures.size < this.options.maxTracked && t - entry.last <= this.options.forgetAfterMs) break;
      this.failures.delete(address);
    }
  }
}
