/**
 * What the coordinator turned away, counted by coded reason, and a log of it that no peer can
 * flood: for each reason the first 8 lines, then one at every power of two (16th, 32nd, …), each
 * with the count so far. The counts are for status pages and metrics; they only ever grow.
 */
import type { Reason } from '@mnist-lr/core/protocol';

/** Lines logged per reason before only powers of two are. */
const FREE_LINES = 8;

/** True for the counts whose line is logged: 1..8, then 16, 32, 64, … */
export function worthLogging(count: number): boolean {
  return count <= FREE_LINES || (count & (count - 1)) === 0;
}

export class Refusals {
  /** Connections refused before they joined (token, caps, deadline, handshake), by reason. */
  readonly refused: Partial<Record<Reason, number>> = {};
  /** Workers that had joined and were closed by the coordinator, by reason. */
  readonly evicted: Partial<Record<Reason, number>> = {};

  constructor(private readonly log: (line: string) => void) {}

  /** Counts a refusal of `peer` and logs it unless the log for `reason` is being thinned. */
  refuse(peer: string, reason: Reason, detail: string): void {
    const count = this.countRefusal(reason);
    if (worthLogging(count)) this.log(`refused ${peer}: [${reason}] ${detail}${count > 1 ? ` (${count} so far)` : ''}`);
  }

  /** Counts a refusal logged elsewhere (a bad token: by address); returns the count so far. */
  countRefusal(reason: Reason): number {
    return (this.refused[reason] = (this.refused[reason] ?? 0) + 1);
  }

  /** Counts an eviction (its line is the pool's "left" line). */
  evict(reason: Reason): void {
    this.evicted[reason] = (this.evicted[reason] ?? 0) + 1;
  }
}
