/**
 * A worker's recent slice times: a fixed ring written on every answer (one store, no allocation),
 * sorted only when someone reads the median or the 95th percentile.
 */
export class SliceTimes {
  private readonly ring: Float64Array;
  private count = 0;
  private next = 0;

  /** @param window how many recent slices the quantiles cover. Default 256. */
  constructor(window = 256) {
    this.ring = new Float64Array(window);
  }

  record(ms: number): void {
    this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.ring.length;
    if (this.count < this.ring.length) this.count++;
  }

  /** The q-quantile (nearest rank) of the recent times, milliseconds; null before the first. */
  quantiles(...qs: number[]): Array<number | null> {
    if (this.count === 0) return qs.map(() => null);
    const sorted = this.ring.slice(0, this.count).sort();
    return qs.map((q) => sorted[Math.min(this.count - 1, Math.max(0, Math.ceil(q * this.count) - 1))]!);
  }
}
