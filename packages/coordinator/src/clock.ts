/**
 * Time as the scheduler sees it: a reading in milliseconds and one-shot timers. The coordinator
 * runs on the system clock; the scheduler's tests run on a clock they move by hand, so that
 * deadlines and waits of seconds are reached at once, in a fixed order, without sleeping.
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes back. */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now, unless cleared first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a timer that already fired, or undefined, is ignored. */
  clearTimeout(timer: TimerHandle | undefined): void;
}

/** A pending timer, opaque to its user. */
export type TimerHandle = object;

/** performance.now and Node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
};
