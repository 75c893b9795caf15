/** `mnist-lr bench`: the kernel and distributed benchmarks, as markdown tables. */
import { loadMnist, prepareData } from '@mnist-lr/core';

import { benchDashboard } from '../bench/dashboard.js';
import { benchDistributed } from '../bench/distributed.js';
import { benchKernel } from '../bench/kernel.js';
import { badOption } from '../errors.js';

export interface BenchCommandOptions {
  what: string;
  /** Seconds of measurement per distributed cell. */
  seconds: number;
}

export async function benchCommand(options: BenchCommandOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (!['all', 'kernel', 'distributed', 'dashboard'].includes(options.what)) throw badOption(`bench ${options.what}: expected kernel, distributed, dashboard or all`);
  const log = (line: string): void => void process.stderr.write(`  ${line}\n`);
  const mnist = loadMnist();
  const data = prepareData(mnist);
  if (options.what === 'all' || options.what === 'kernel') {
    stdout.write('\n## Kernel: seconds per epoch (60,000 samples, gradient + SGD step), medians, same run\n\n');
    stdout.write(`${benchKernel(data, mnist.train.images, { batches: [10, 100, 1000], repeats: 7, denseRepeats: 3, log })}\n`);
  }
  if (options.what === 'all' || options.what === 'distributed') {
    stdout.write('\n## Distributed: local worker threads over WebSocket on 127.0.0.1, medians, same run\n\n');
    const r = await benchDistributed(data, { batches: [10, 100, 1000, 8192], workers: [1, 2, 4], budgetMs: options.seconds * 1000, log });
    stdout.write(`Milliseconds per step (median):\n\n${r.table}\n\nSeconds per epoch (60,000 samples), from the mean step of the same measurements (pauses included):\n\n${r.epochs}\n`);
  }
  if (options.what === 'all' || options.what === 'dashboard') {
    stdout.write('\n## Watching: step time with the dashboard open against nobody watching, interleaved windows of one run\n\n');
    stdout.write(`${await benchDashboard(data, { windowSeconds: Math.max(2, options.seconds), rounds: 5, log })}\n`);
  }
}
