/** The line a run with --verify ends with: what was checked and who was caught. */
import type { Coordinator } from '@mnist-lr/coordinator';

import { int } from '../outputs/format.js';

/** "verified 1,200 slices (600 computed by the coordinator itself); 1 mismatch; …", or undefined without --verify. */
export function verifySummary(coordinator: Coordinator, fraction: number): string | undefined {
  if (fraction <= 0) return undefined;
  const v = coordinator.stats.verify;
  const evicted = coordinator.evicted.RESULT_MISMATCH ?? 0;
  const refused = coordinator.refused.RESULT_MISMATCH ?? 0;
  return (
    `--verify ${fraction}: ${int(v.verified)} slices computed twice and compared (${int(v.byCoordinator)} computations by the coordinator itself); ` +
    `${int(v.mismatches)} mismatch${v.mismatches === 1 ? '' : 'es'}; ${evicted} worker${evicted === 1 ? '' : 's'} evicted for RESULT_MISMATCH` +
    (refused > 0 ? `, ${refused} reconnection${refused === 1 ? '' : 's'} of them refused` : '') +
    (v.recomputed > 0 ? `; ${int(v.recomputed)} of their slices recomputed` : '')
  );
}
