import { availableParallelism, loadavg } from 'node:os';
import { parseConfig, stepsPerEpoch, type TrainingData } from '@mnist-lr/core/engine';
import { coresUsed, inProcess, withWorkers, type Transport } from './cells.js';
import { parallelFloor } from './parallel-floor.js';
import { scalingTarget, SCALING_TARGET } from './scaling-target.js';
import { spinFloor } from './spin-floor.js';
import { median, table } from './stats.js';
import type { Cell } from './step-timer.js';

export type { Cell } from './step-timer.js';
export { withWorkers } from './cells.js';

export interface DistributedBenchOptions {
  batches: number[];
  /** Measure each cell for about this long after warm-up, milliseconds. */
  budgetMs: number;
  /** Interleaved rounds of every cell, per batch; medians are reported. Default 3. */
  rounds?: number;
  /** Interleaved rounds for the scaling target's verdict. Default 3. */
  targetRounds?: number;
  log: (line: string) => void;
}

/** The cells of one batch size, in the order a round measures them. */
const CELLS: ReadonlyArray<{ name: string; measure: (data: TrainingData, config: ReturnType<typeof parseConfig>, budgetMs: number) => Promise<Cell>; transport?: Transport }> = [
  { name: 'in-process', measure: inProcess },
  { name: '2 parties, thread over shared memory', transport: 'shared memory', measure: (d, c, ms) => withWorkers(d, c, 2, ms, 0, 'shared memory') },
  { name: '2 parties, thread over WebSocket', transport: 'thread WebSocket', measure: (d, c, ms) => withWorkers(d, c, 2, ms, 0, 'thread WebSocket') },
  { name: '2 parties, process over WebSocket', transport: 'process WebSocket', measure: (d, c, ms) => withWorkers(d, c, 2, ms, 0, 'process WebSocket') },
  { name: '2 threads sharing memory, sleeping, no messages', measure: (d, c, ms) => parallelFloor(d, c, 2, ms) },
  { name: '2 threads spinning, descriptors only', measure: spinFloor },
];

/**
 * Milliseconds per step of each way to compute a step on this machine, at each batch size, in
 * interleaved rounds (every cell in turn, so that a busy spell of a shared machine hits them
 * alike), medians over the rounds: in-process; `train --workers 2` as the command runs it (the
 * coordinator computing one share, one local worker the other) over each transport; and two
 * floors, which are not training (see parallel-floor.ts and spin-floor.ts): two threads that
 * compute and sleep between steps, sending nothing, and two threads that hand each step over by
 * spinning, sending nothing but the step's number. Beside each cell, the cores its process kept
 * busy (a process worker's CPU is its own process's and is not counted).
 */
export async function benchDistributed(data: TrainingData, options: DistributedBenchOptions): Promise<{ table: string; epochs: string; scaling: string; target: string }> {
  const rounds = options.rounds ?? 3;
  const steps: string[][] = [];
  const epochs: string[][] = [];
  const scaling: string[][] = [];
  const load = [loadavg()[0]!];
  for (const B of options.batches) {
    const config = parseConfig({ num_epoches: 1000, batch_size: B, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
    const perEpoch = stepsPerEpoch(data.train.count, B);
    const cells: Cell[][] = CELLS.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [i, cell] of CELLS.entries()) cells[i]!.push(await cell.measure(data, config, options.budgetMs));
      options.log(`batch ${B}, round ${r + 1}/${rounds}: ${CELLS.map((c, i) => `${c.name} ${cells[i]!.at(-1)!.msPerStep.toFixed(3)} ms`).join(', ')}; load average ${loadavg()[0]!.toFixed(2)}`);
    }
    load.push(loadavg()[0]!);
    const ms = cells.map((c) => median(c.map((x) => x.msPerStep)));
    const mean = cells.map((c) => median(c.map((x) => x.meanMs)));
    const cores = cells.map((c, i) => (CELLS[i]!.transport === 'process WebSocket' ? '—' : median(c.map((x) => Number(coresUsed(x)))).toFixed(2)));
    const local = ms[0]!;
    steps.push([String(B), ...ms.map((m, i) => `${m.toFixed(3)} (${i === 0 ? '1.00' : (local / m).toFixed(2)}×, ${cores[i]})`)]);
    epochs.push([String(B), ...mean.map((m) => ((m * perEpoch) / 1000).toFixed(2))]);
    const shared = cells[1]!;
    const wire = median(shared.map((c) => c.bytesDown + c.bytesUp));
    scaling.push([String(B), local.toFixed(3), ms[1]!.toFixed(3), `${(local / ms[1]!).toFixed(2)}×`, ms[5]!.toFixed(3), `${(local / ms[5]!).toFixed(2)}×`, `${(local / ms[4]!).toFixed(2)}×`, wire.toFixed(0)]);
  }
  // The verdict from rounds of its own, interleaved: cells measured minutes apart on a shared
  // machine differ more than the target does.
  const target = options.batches.includes(SCALING_TARGET.batch)
    ? await scalingTarget(data, { budgetMs: options.budgetMs, rounds: options.targetRounds ?? 3, log: options.log })
    : `batch ${SCALING_TARGET.batch} was not measured`;
  load.push(loadavg()[0]!);
  const loads = `load average (1 min) ${Math.min(...load).toFixed(2)}–${Math.max(...load).toFixed(2)} on ${availableParallelism()} cores while measuring`;
  return {
    table: table(['batch', ...CELLS.map((c) => c.name)], steps),
    epochs: table(['batch', ...CELLS.map((c) => c.name)], epochs),
    scaling: table(['batch', 'in-process (ms)', 'shared memory (ms)', 'its speed-up', 'spinning floor (ms)', 'its speed-up', 'sleeping floor\'s speed-up', 'WebSocket bytes per step and worker'], scaling),
    target: `${target}; ${loads}.`,
  };
}
