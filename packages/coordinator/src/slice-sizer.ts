/**
 * How many samples of a batch each party computes: in proportion to how fast each has been lately,
 * so that all finish a step at about the same time. A worker's time is measured from sending its
 * slice to its answer, so what it costs to reach it (the weights it takes, the sums it sends back)
 * counts against it: a worker thread next door is given a little less than the coordinator's own
 * thread, a worker across a network much less. Until a party has been timed it counts as fast as
 * the average of those that have. The sums are exact however a batch is split (DESIGN.md §2),
 * so the split changes how long a step takes, never its result.
 */
export class SliceSizer<P> {
  /** Milliseconds per sample of each party (an exponential average), keyed by party (null: this thread). */
  private readonly perSample = new Map<P | null, number>();

  /** Records that `party` computed `samples` samples in `ms` milliseconds. */
  record(party: P | null, samples: number, ms: number): void {
    if (samples <= 0 || !(ms >= 0)) return;
    const x = ms / samples;
    const old = this.perSample.get(party);
    this.perSample.set(party, old === undefined ? x : old + WEIGHT * (x - old));
  }

  /** Forgets a party that left. */
  forget(party: P): void {
    this.perSample.delete(party);
  }

  /**
   * The boundaries of contiguous slices of a batch of `n` samples for `parties`, in that order:
   * slice i is [bounds[i], bounds[i + 1]). Every party gets at least one sample when there are
   * at least as many samples as parties.
   */
  bounds(parties: ReadonlyArray<P | null>, n: number): number[] {
    const known = parties.map((p) => this.perSample.get(p)).filter((x): x is number => x !== undefined && x > 0);
    const typical = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 1;
    const speeds = parties.map((p) => 1 / (this.perSample.get(p) || typical));
    const total = speeds.reduce((a, b) => a + b, 0);
    const bounds = [0];
    let acc = 0;
    for (let i = 0; i < parties.length; i++) {
      acc += speeds[i]!;
      const left = parties.length - 1 - i;
      // Rounded, and leaving a sample for each party after this one (and taking one itself).
      const end = i === parties.length - 1 ? n : Math.min(n - left, Math.max(bounds[i]! + 1, Math.round((acc / total) * n)));
      bounds.push(end);
    }
    return bounds;
  }
}

/** Weight of a new measurement in the average: about the last 10 steps count. */
const WEIGHT = 0.1;
