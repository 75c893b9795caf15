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
  /** Steps not timed after a switch. */
  private settling = 0;
  /** Steps of the faster kind until the other is tried again. */
  private probeEvery = PROBE_EVERY;

  /** Whether the next step is shared with the workers. */
  share(): boolean {
    return this.current === 'share';
  }

  /** The time the step just ended took, under the kind share() gave for it. */
  record(ms: number): void {
    const kind = this.current;
    // The first steps after a switch are not typical (a sleeping worker wakes up): not counted.
    if (this.settling > 0) {
      this.settling--;
      return;
    }
    this.times[kind][this.counts[kind]++ % WINDOW] = ms;
    if (this.best !== null) {
      // Keeping to the faster kind; every PROBE_EVERY steps the other is measured again.
      if (kind === this.best && ++this.sinceProbe >= this.probeEvery) this.switchTo(kind === 'share' ? 'alone' : 'share');
      else if (kind !== this.best && --this.left === 0) this.decide();
      return;
    }
    if (--this.left > 0) return;
    // The first window of each: sharing first, then alone.
    if (this.counts.alone === 0) this.switchTo('alone');
    else this.decide();
  }

  private decide(): void {
    this.settling = SETTLING_STEPS;
    const share = median(this.times.share, Math.min(this.counts.share, WINDOW));
    const alone = median(this.times.alone, Math.min(this.counts.alone, WINDOW));
    const best = share <= alone ? 'share' : 'alone';
    // A try that confirms the choice makes the next one wait twice as long; a change, the least.
    this.probeEvery = best === this.best ? Math.min(PROBE_EVERY_MAX, 2 * this.probeEvery) : PROBE_EVERY;
    this.best = best;
    this.current = this.best;
    this.sinceProbe = 0;
  }

  private switchTo(kind: 'share' | 'alone'): void {
    this.current = kind;
    this.left = this.best === null ? WINDOW : PROBE_STEPS;
    this.settling = SETTLING_STEPS;
  }
}

/** Step times kept of each kind. */
const WINDOW = 64;
/** Steps of the other kind measured when it is tried again. */
const PROBE_STEPS = 48;
/** Steps of the faster kind before the other is tried again, at first; doubling while the choice holds. */
const PROBE_EVERY = 600;
const PROBE_EVERY_MAX = 9600;
/** Steps after a switch that are not timed. */
const SETTLING_STEPS = 16;

function median(values: Float64Array, n: number): number {
  return values.slice(0, n).sort()[n >> 1]!;
}
