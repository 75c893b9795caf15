/** `mnist-lr bench`: the whole-process, kernel, distributed, dashboard, verification, fan-out and browser benchmarks, as markdown tables. */
import { loadMnist, prepareData } from '@mnist-lr/core/engine';

import { benchAccuracy } from '../bench/accuracy.js';
import { benchBrowser } from '../bench/browser.js';
import { benchDashboard } from '../bench/dashboard.js';
import { benchDistributed } from '../bench/distributed.js';
import { benchExpLog } from '../bench/exp-log.js';
import { benchFanout } from '../bench/fanout.js';
import { benchFootprint } from '../bench/footprint.js';
import { benchKernel } from '../bench/kernel.js';
import { benchLocal } from '../bench/local.js';
import { benchOrigin, originUnavailable } from '../bench/origin.js';
import { benchVerify } from '../bench/verify.js';
import { badOption } from '../errors.js';

/** The sections, in the order `all` runs them. */
export const BENCH_SECTIONS = ['origin', 'footprint', 'local', 'accuracy', 'kernel', 'distributed', 'dashboard', 'verify', 'fanout', 'browser'] as const;

export interface BenchCommandOptions {
  /** A section of BENCH_SECTIONS, or 'all'. */
  what: string;
  /** Seconds of measurement per distributed cell. */
  seconds: number;
  /** Interleaved runs of each whole process (origin, footprint, accuracy); medians are reported. */
  runs: number;
}

export async function benchCommand(options: BenchCommandOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<void> {
  const sections: readonly string[] = BENCH_SECTIONS;
  if (options.what !== 'all' && !sections.includes(options.what)) throw badOption(`bench ${options.what}: expected ${BENCH_SECTIONS.join(', ')} or all`);
  const runs = (what: string): boolean => options.what === 'all' || options.what === what;
  const log = (line: string): void => void process.stderr.write(`  ${line}\n`);
  if (runs('origin')) {
    stdout.write(`\n## Against the NumPy origin: whole processes, all epochs, medians of ${options.runs} interleaved runs\n\n`);
    const why = originUnavailable();
    stdout.write(why === null ? `${await benchOrigin({ configs: ['config_sample', 'config_1'], runs: options.runs, log })}\n` : `Skipped: ${why}.\n`);
  }
  if (runs('footprint')) {
    stdout.write(`\n## Start-up and memory: whole processes, peak RSS from the operating system, medians of ${options.runs} interleaved runs\n\n`);
    stdout.write(`${await benchFootprint({ runs: options.runs, log })}\n`);
  }
  if (runs('local')) {
    stdout.write(`\n## Local workers: whole train processes of the origin's configs, --workers 0 against --workers 2, medians of ${options.runs} interleaved runs\n\n`);
    stdout.write(`${await benchLocal({ configs: ['config_sample', 'config_1', 'config_2', 'config_3'], runs: options.runs, log })}\n`);
  }
  if (runs('accuracy')) {
    stdout.write(`\n## Time to accuracy: whole processes, medians of ${options.runs} runs\n\n`);
    stdout.write(`${await benchAccuracy({ config: 'config_fast', runs: options.runs, log })}\n`);
  }
  if (!['kernel', 'distributed', 'dashboard', 'verify', 'fanout', 'browser'].some(runs)) return;
  const mnist = loadMnist();
  const data = prepareData(mnist);
  // First of the in-process sections: its table reports this process's peak memory as the
  // coordinator's, which the sections before it would inflate with heaps of their own.
  if (runs('fanout')) {
    stdout.write('\n## Fan-out: one coordinator and N workers on 127.0.0.1 (one process hosting them all), medians, same run\n\n');
    const f = await benchFanout(data, { workers: [1, 2, 4, 8, 16, 32, 64], batches: [100, 8192], budgetMs: options.seconds * 1000, log });
    stdout.write(`What the coordinator pays per step as workers are added:\n\n${f.table}\n`);
    stdout.write(`\nProjected onto real links, each worker on a machine of its own: a step takes at least the largest of a worker's share of the batch's arithmetic, the coordinator's CPU and its busier direction's bytes at line rate (95 % of it), the last two fitted as straight lines in N over the cells above (Theil–Sen: medians of slopes); "best N" is where that step is shortest:\n\n${f.projection}\n`);
  }
  if (runs('kernel')) {
    stdout.write('\n## Kernel: seconds per epoch (60,000 samples, gradient + SGD step), medians, same run\n\n');
    stdout.write(`${benchKernel(data, mnist.train.images, { batches: [10, 100, 1000], repeats: 7, denseRepeats: 3, log })}\n`);
    stdout.write('\n## Kernel: its own exp and log against the host\'s Math.exp and Math.log, seconds per epoch, medians, same run\n\n');
    stdout.write(`${benchExpLog(data, { batches: [10, 100], repeats: 7, log })}\n`);
  }
  if (runs('distributed')) {
    stdout.write('\n## Distributed: a step split between two parties over each transport, beside in-process and two floors, medians of interleaved rounds, same run\n\n');
    const r = await benchDistributed(data, { batches: [10, 100, 1000, 8192], budgetMs: options.seconds * 1000, log });
    stdout.write(`Milliseconds per step (median), with the speed-up over in-process and the cores the process kept busy:\n\n${r.table}\n\nSeconds per epoch (60,000 samples), from the mean step of the same measurements (pauses and the evaluation after each epoch included):\n\n${r.epochs}\n`);
    stdout.write(`\nScaling: the shared-memory plane against in-process, and against the two floors, medians:\n\n${r.scaling}\n\n${r.target}\n`);
  }
  if (runs('dashboard')) {
    stdout.write('\n## Watching: step time with the dashboard open against nobody watching, interleaved windows of one run\n\n');
    stdout.write(`${await benchDashboard(data, { windowSeconds: Math.max(2, options.seconds), rounds: 5, log })}\n`);
  }
  if (runs('verify')) {
    stdout.write('\n## Verified results: the coordinator and 1 local worker thread over shared memory, --verify 0 against 0.1 and 1, medians, same run\n\n');
    const t = await benchVerify(data, { batches: [100, 1000], fractions: [0, 0.1, 1], budgetMs: options.seconds * 1000, rounds: 3, log });
    stdout.write(`Per step, the median of 3 interleaved rounds, and the ratio to --verify 0:\n\n${t}\n`);
  }
  if (runs('browser')) {
    stdout.write('\n## Browser workers: a tab on the join page against an `mnist-lr worker` process, each the only worker (a slice is the whole batch), medians of 3 interleaved rounds, same run\n\n');
    stdout.write(`${await benchBrowser(data, { batches: [100, 1000], budgetMs: options.seconds * 1000, rounds: 3, log })}\n`);
  }
}
