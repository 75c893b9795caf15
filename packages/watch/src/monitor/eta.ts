/**
 * Speed and time left, from a few samples of (time, steps done): the rate is the steps over the
 * last `windowMs` of samples, so it follows a run that speeds up or slows down (a worker joins
 * or leaves) within seconds, without the jitter of a per-step rate.
 */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly steps: number[] = [];

  /** @param windowMs span of the samples the rate is taken over, milliseconds. Default 10000. */
  constructor(private readonly windowMs = 10_000) {}

  /** Adds a sample: `steps` done in the run so far at `now` (milliseconds). */
  sample(now: number, steps: number): void {
    this.times.push(now);
    this.steps.push(steps);
    // Keep one sample older than the window, so the rate always spans it.
    while (this.times.length > 2 && now - this.times[1]! >= this.windowMs) {
      this.times.shift();
      this.steps.shift();
    }
  }

  /** Steps per second over the window, or null before two samples. */
  rate(): number | null {
    const n = this.times.length;
    if (n < 2) return null;
    const dt = (this.times[n - 1]! - this.times[0]!) / 1000;
    return dt > 0 ? (this.steps[n - 1]! - this.steps[0]!) / dt : null;
  }

  /** Forgets every sample (a pause, such as a wait for workers, would drag the rate down). */
  reset(): void {
    this.times.length = 0;
    this.steps.length = 0;
  }
}

/** What is left of a run, in steps and in epoch ends (each one an evaluation). */
export interface Remaining {
  epochSteps: number;
  runSteps: number;
  epochEnds: number;
}

/** Steps and epoch ends left from step `step` of 0-based `epoch`. */
export function remaining(epoch: number, step: number, steps: number, epochs: number): Remaining {
  const left = Math.max(0, epochs - epoch - 1);
  return { epochSteps: steps - step, runSteps: steps - step + left * steps, epochEnds: Math.max(0, epochs - epoch) };
}

/**
 * Seconds until the epoch and the run end: steps at `rate`, plus `evalSeconds` (the measured
 * time of an epoch's evaluation, decay and outputs) for every epoch end still to come.
 */
export function eta(left: Remaining, rate: number | null, evalSeconds: number): { epoch: number | null; run: number | null } {
  if (rate === null || rate <= 0) return { epoch: null, run: null };
  return { epoch: left.epochSteps / rate, run: left.runSteps / rate + left.epochEnds * evalSeconds };
}

/** "1h02m", "4m05s", "12s": short enough for a progress line. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '…';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
