/**
 * A worker's account of each epoch: slices computed and the median time of computing one, printed
 * as one line when the coordinator's tasks move on to the next epoch (and at the end of the run).
 * Coordinators that do not say the epoch with their tasks get no lines.
 */
export class EpochTally {
  private epoch: number | undefined;
  private times: number[] = [];

  /** Records a slice of `epoch` that took `ms` to compute; returns the line of an epoch just ended. */
  slice(epoch: number | undefined, ms: number): string | undefined {
    let line: string | undefined;
    if (epoch !== this.epoch) {
      line = this.flush();
      this.epoch = epoch;
    }
    if (epoch !== undefined) this.times.push(ms);
    return line;
  }

  /** The line of the epoch in progress, if it has slices (at the end of a run). */
  flush(): string | undefined {
    const n = this.times.length;
    if (this.epoch === undefined || n === 0) return undefined;
    const sorted = Float64Array.from(this.times).sort();
    const median = n % 2 ? sorted[n >> 1]! : (sorted[(n >> 1) - 1]! + sorted[n >> 1]!) / 2;
    this.times = [];
    return `epoch ${this.epoch + 1}: ${grouped(n)} slice${n === 1 ? '' : 's'} done, median ${median.toFixed(2)} ms each`;
  }
}

/** 12345 → "12,345", by hand: toLocaleString would page in part of ICU's data (about 5 MiB). */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
