/**
 * Step times in fixed exponential buckets, recorded with one comparison loop and one increment
 * (no allocation, no labels): a training step at batch 10 takes about 20 µs in-process, where a
 * prom-client Histogram.observe (≈ 0.5 µs) would cost a few percent. /metrics reads the counts.
 */
export class StepHistogram {
  /** Upper bounds, seconds: 10 µs doubling to about 10 s. */
  readonly bounds: Float64Array;
  /** counts[i]: observations ≤ bounds[i] and > bounds[i-1]; the last slot holds the rest (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(first = 1e-5, factor = 2, buckets = 21) {
    this.bounds = new Float64Array(buckets);
    for (let i = 0; i < buckets; i++) this.bounds[i] = first * factor ** i;
    this.counts = new Float64Array(buckets + 1);
  }

  observe(seconds: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}
