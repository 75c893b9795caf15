/**
 * What the coordinator turned away, counted by coded reason (the one count: `coordinator.refused`
 * and `.evicted`, and what /status and /metrics show), and a log of it that no peer can flood:
 * for each reason the first 8 lines, then one at every power of two (16th, 32nd, …), each with
 * the count so far. The counts only ever grow.
 */
import type { Reason } from '@mnist-lr/core/protocol';

/** Lines logged per reason (or per address, for wrong tokens) before only powers of two are. */
const FREE_LINES = 8;

/** True for the counts whose line is logged: 1..8, then 16, 32, 64, … */
function worthLogging(count: number): boolean {
  return count <= FREE_LINES || (count & (count - 1)) === 0;
}

/** The detail of a refused credential, in the log and the event feed. */
export const TOKEN_DETAIL = { BAD_TOKEN: 'wrong or missing token', BAD_JOIN_SECRET: "a join link's secret that is not this run's" } as const;

export class Refusals {
  /** Connections refused before they joined (token, caps, deadline, handshake), by reason. */
  readonly refused: Partial<Record<Reason, number>> = {};
  /** Workers that had joined and were closed by the coordinator, by reason. */
  readonly evicted: Partial<Record<Reason, number>> = {};

  constructor(private readonly log: (line: string) => void) {}

  /** Counts a refusal of `peer`; logs it unless the log for `reason` is being thinned. Returns whether it did. */
  refuse(peer: string, reason: Reason, detail: string): boolean {
    const count = this.count(reason);
    const shown = worthLogging(count);
    if (shown) this.log(`refused ${peer}: [${reason}] ${detail}${count > 1 ? ` (${count} so far)` : ''}`);
    return shown;
  }

  /**
   * Counts an upgrade refused for its token (or for a join link's secret: BAD_JOIN_SECRET), the
   * `fromAddress`th from that address, answered after `delayMs`. Logged per address, thinned as
   * per reason: a guesser cannot flood the log.
   */
  refuseToken(peer: string, fromAddress: number, delayMs: number, reason: 'BAD_TOKEN' | 'BAD_JOIN_SECRET' = 'BAD_TOKEN'): boolean {
    this.count(reason);
    const shown = worthLogging(fromAddress);
    if (shown) this.log(`refused ${peer}: [${reason}] ${TOKEN_DETAIL[reason]} (${fromAddress} from this address${delayMs ? `; answers now delayed ${delayMs} ms` : ''})`);
    return shown;
  }

  /** Counts an eviction (its line is the pool's "left" line). */
  evict(reason: Reason): void {
    this.evicted[reason] = (this.evicted[reason] ?? 0) + 1;
  }

  private count(reason: Reason): number {
    return (this.refused[reason] = (this.refused[reason] ?? 0) + 1);
  }
}
