/**
 * The scaling target: `train --workers 2` (the coordinator computing one share, a worker thread
 * over shared memory the other) against in-process training at batch 8192, in interleaved rounds
 * (in-process, 2 workers, 2 threads sharing memory, in turn), so that a busy spell of a shared
 * machine hits all three alike; medians over the rounds. Beside it, the cores each cell's process
 * kept busy and the 2-thread floor, which say whether the machine let any 2 threads win.
 */
import { parseConfig, type TrainingData } from '@mnist-lr/core/engine';

import { coresUsed, inProcess, withWorkers } from './cells.js';
import { parallelFloor } from './parallel-floor.js';
import { median } from './stats.js';
import type { Cell } from './step-timer.js';

/** At this batch, 2 local workers should step at least `speedUp` times as fast as in-process on a 2-core machine. */
export const SCALING_TARGET = { batch: 8192, workers: 2, speedUp: 1.8 } as const;

export async function scalingTarget(data: TrainingData, options: { budgetMs: number; rounds: number; log: (line: string) => void }): Promise<string> {
  const { batch, workers, speedUp } = SCALING_TARGET;
  const config = parseConfig({ num_epoches: 1000, batch_size: batch, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
  const cells = { local: [] as Cell[], two: [] as Cell[], floor: [] as Cell[] };
  for (let r = 0; r < options.rounds; r++) {
    cells.local.push(await inProcess(data, config, options.budgetMs));
    cells.two.push(await withWorkers(data, config, workers, options.budgetMs));
    cells.floor.push(await parallelFloor(data, config, workers, options.budgetMs));
    const [l, t, f] = [cells.local, cells.two, cells.floor].map((c) => c.at(-1)!);
    options.log(`target round ${r + 1}: in-process ${l!.msPerStep.toFixed(3)} ms, ${workers} workers ${t!.msPerStep.toFixed(3)} ms (${(l!.msPerStep / t!.msPerStep).toFixed(2)}×, ${coresUsed(t!)} cores), ${workers} threads sharing memory ${f!.msPerStep.toFixed(3)} ms`);
  }
  const ms = (c: Cell[]): number => median(c.map((x) => x.msPerStep));
  const cores = (c: Cell[]): string => median(c.map((x) => x.cpuMs / x.meanMs)).toFixed(2);
  const got = ms(cells.local) / ms(cells.two);
  return (
    `${workers} workers ÷ in-process at batch ${batch}, medians of ${options.rounds} interleaved rounds: ` +
    `${ms(cells.local).toFixed(3)} / ${ms(cells.two).toFixed(3)} ms = ${got.toFixed(2)}× (target ≥ ${speedUp}×: ${got >= speedUp ? 'met' : 'missed'}); ` +
    `cores kept busy ${cores(cells.local)} in-process, ${cores(cells.two)} with ${workers} workers; ` +
    `${workers} threads sharing memory, no messages: ${(ms(cells.local) / ms(cells.floor)).toFixed(2)}× with ${cores(cells.floor)} cores`
  );
}
