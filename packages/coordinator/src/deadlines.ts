/**
 * Step deadlines that follow the measured slice times: a worker gets `factor` times the median of
 * recent slices, never less than `minMs` and never more than `maxMs` (the --step-timeout). Before
 * any slice was measured, the deadline is `maxMs`. A stopped or overloaded worker so loses its
 * slice within a few typical steps instead of after a fixed, generous timeout.
 */
export class SliceTimer {
  private readonly recent: number[] = [];
  private next = 0;
  /** Scratch for finding the median: a typed array sorts numerically, natively. */
  private readonly sorted: Float64Array;
  /** The median of `recent`, kept up to date by record() (deadline() runs for every slice sent). */
  private median: number | undefined;

  constructor(
    private readonly options: { minMs: number; maxMs: number; factor: number; window: number },
  ) {
    this.sorted = new Float64Array(options.window);
  }

  /** Records how long a slice took, from sending to the valid answer. */
  record(ms: number): void {
    if (this.recent.length < this.options.window) this.recent.push(ms);
    else this.recent[this.next] = ms;
    this.next = (this.next + 1) % this.options.window;
    const s = this.sorted.subarray(0, this.recent.length);
    s.set(this.recent);
    this.median = s.sort()[s.length >> 1];
  }

  /** Median of the recent slice times, or undefined before the first. */
  typical(): number | undefined {
    return this.median;
  }

  /** How long a slice sent now may take. */
  deadline(): number {
    const t = this.typical();
    if (t === undefined) return this.options.maxMs;
    return Math.min(this.options.maxMs, Math.max(this.options.minMs, this.options.factor * t));
  }
}
