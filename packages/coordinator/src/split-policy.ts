/**
 * Whether a step is shared with the workers or computed by the coordinator's thread alone,
 * whichever has measured faster lately (computeShare only).
 *
 * Sharing a step costs more than its arithmetic saves when the batch is small: the rows of a
 * step's sums and of its new weights must cross from one core's cache to the other's, tens of
 * kilobytes a step either way, which at batch 10 takes longer than half of the step's arithmetic.
 * The policy times steps of both kinds (the median of a window of each) and keeps to the faster,
 * trying the other again every so often, since what is faster depends on the batch, the machine
 * and what else the machine is doing. The result of a step does not depend on the choice: sums
 * are exact however a batch is split (DESIGN.md §2).
 */
export class SplitPolicy {
  /** Recent step times of each kind, milliseconds (a ring each). */
  private readonly times = { share: new Float64Array(WINDOW), alone: new Float64Array(WINDOW) };
  private readonly counts = { share: 0, alone: 0 };
  private current: 'share' | 'alone' = 'share';
  /** Steps left in the current run of the kind being measured. */
  private left = WINDOW;
  /** The kind that measured faster, once both were measured. */
  private best: 'share' | 'alone' | null = null;
  private sinceProbe = 0;

  /** Whether the next step is shared with the workers. */
  share(): boolean {
    return this.current === 'share';
  }

  /** The time the step just ended took, under the kind share() gave for it. */
  record(ms: number): void {
    const kind = this.current;
    this.times[kind][this.counts[kind]++ % WINDOW] = ms;
    if (this.best !== null) {
      // Keeping to the faster kind; every PROBE_EVERY steps the other is measured again.
      if (kind === this.best && ++this.sinceProbe >= PROBE_EVERY) this.switchTo(kind === 'share' ? 'alone' : 'share');
      else if (kind !== this.best && --this.left === 0) this.decide();
      return;
    }
    if (--this.left > 0) return;
    // The first window of each: sharing first, then alone.
    if (this.counts.alone === 0) this.switchTo('alone');
    else this.decide();
  }

  private decide(): void {
    const share = median(this.times.share, Math.min(this.counts.share, WINDOW));
    const alone = median(this.times.alone, Math.min(this.counts.alone, WINDOW));
    this.best = share <= alone ? 'share' : 'alone';
    this.current = this.best;
    this.sinceProbe = 0;
  }

  private switchTo(kind: 'share' | 'alone'): void {
    this.current = kind;
    this.left = PROBE_STEPS;
    if (this.best === null) this.left = WINDOW;
  }
}

/** Step times kept of each kind. */
const WINDOW = 64;
/** Steps of the other kind measured when it is tried again. */
const PROBE_STEPS = 32;
/** Steps of the faster kind between two tries of the other. */
const PROBE_EVERY = 2000;

function median(values: Float64Array, n: number): number {
  return values.slice(0, n).sort()[n >> 1]!;
}
