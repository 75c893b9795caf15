/**
 * The cost of verified results (--verify): milliseconds per step of a coordinator with two local
 * worker threads at --verify 0, 0.1 and 1, measured in the same run, cells interleaved, so the
 * ratios compare like with like on a noisy machine.
 *
 * With --verify 1 each of the two slices of a step goes to both workers, so each worker computes
 * the whole batch and sends twice the sums: the arithmetic per worker doubles, the messages per
 * step double, and the coordinator compares 7,850 floats per verified slice.
 */
import { parseConfig, type TrainingData } from '@mnist-lr/core';

import { withWorkers, type Cell } from './distributed.js';
import { median, table } from './stats.js';

export interface VerifyBenchOptions {
  batches: number[];
  fractions: number[];
  /** Measure each cell for about this long after warm-up, milliseconds. */
  budgetMs: number;
  /** Cells per fraction and batch; their medians' median is reported. */
  rounds: number;
  log: (line: string) => void;
}

export async function benchVerify(data: TrainingData, options: VerifyBenchOptions): Promise<string> {
  const rows: string[][] = [];
  for (const B of options.batches) {
    const config = parseConfig({ num_epoches: 1000, batch_size: B, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
    const cells = new Map<number, Cell[]>(options.fractions.map((f) => [f, []]));
    // Rounds of every fraction in turn: a slow spell of the machine hits all of them alike.
    for (let r = 0; r < options.rounds; r++) {
      for (const f of options.fractions) cells.get(f)!.push(await withWorkers(data, config, 2, options.budgetMs, f));
    }
    const ms = options.fractions.map((f) => median(cells.get(f)!.map((c) => c.msPerStep)));
    const base = ms[0]!;
    options.log(`batch ${B}: ${options.fractions.map((f, i) => `--verify ${f} ${ms[i]!.toFixed(3)} ms`).join(', ')}`);
    rows.push([String(B), ...ms.flatMap((m, i) => (i === 0 ? [m.toFixed(3)] : [m.toFixed(3), `${(m / base).toFixed(2)}×`]))]);
  }
  const heads = options.fractions.flatMap((f, i) => (i === 0 ? [`--verify ${f} (ms/step)`] : [`--verify ${f}`, `÷ --verify ${options.fractions[0]}`]));
  return table(['batch', ...heads], rows);
}
