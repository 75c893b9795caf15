/**
 * The cost of verified results (--verify): milliseconds per step of two parties as `train
 * --workers 2` runs them (the coordinator's thread computing a share, one local worker thread over
 * shared memory) at --verify 0, 0.1 and 1, measured in the same run, cells interleaved, so the
 * ratios compare like with like on a noisy machine.
 *
 * Beside the wall-clock step, the CPU time of the whole process (the coordinator and the worker
 * are threads of it) per step: the work verification adds, which a machine busy with other work
 * inflates much less than it does the wall clock.
 *
 * With one worker, --verify 1 makes the coordinator compute the worker's slice as well and compare
 * its 7,850 floats: the coordinator computes the whole batch every step.
 */
import { parseConfig, type TrainingData } from '@mnist-lr/core/engine';

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
    const cpu = options.fractions.map((f) => median(cells.get(f)!.map((c) => c.cpuMs)));
    options.log(`batch ${B}: ${options.fractions.map((f, i) => `--verify ${f} ${ms[i]!.toFixed(3)} ms, ${cpu[i]!.toFixed(3)} CPU ms`).join('; ')}`);
    options.fractions.forEach((f, i) => {
      rows.push([String(B), String(f), ms[i]!.toFixed(3), `${(ms[i]! / ms[0]!).toFixed(2)}×`, cpu[i]!.toFixed(3), `${(cpu[i]! / cpu[0]!).toFixed(2)}×`]);
    });
  }
  const base = options.fractions[0];
  return table(['batch', '--verify', 'ms per step (median)', `÷ --verify ${base}`, 'CPU ms per step, all threads', `÷ --verify ${base}`], rows);
}
