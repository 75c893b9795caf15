/**
 * How numbers and epochs read in logs and on the terminal. One place, so the log file and the
 * terminal print the very same epoch line.
 */
import { isAbsolute, relative } from 'node:path';

import type { EpochMetrics, TrainConfig } from '@mnist-lr/core/engine';

/**
 * 60000 → "60,000". Grouped by hand: toLocaleString pages in part of ICU's data, about 5 MiB of
 * resident memory for a comma.
 */
export function int(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A learning rate with up to 6 significant digits and no float noise: 0.0028125, 0.00210938. */
export function rate(lr: number): string {
  return String(Number(lr.toPrecision(6)));
}

/** Seconds for humans: "0.31 s", "12.4 s", "2 min 05 s". */
export function duration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${String(Math.round(seconds - m * 60)).padStart(2, '0')} s`;
}

/**
 * One epoch, one line: epoch, learning rate, mean training loss, test loss as the origin's sum
 * over the test set and as a mean, test accuracy, validation accuracy when there is a split,
 * and the seconds of the epoch's training steps.
 */
export function formatEpochLine(m: EpochMetrics, totalEpochs: number): string {
  const width = String(totalEpochs).length;
  const parts = [
    `epoch ${String(m.epoch).padStart(width)}/${totalEpochs}`,
    `lr ${rate(m.lr).padEnd(11)}`,
    `train loss ${m.trainLoss.toFixed(4)}`,
    `test loss ${m.testLossSum.toFixed(2).padStart(8)} (mean ${m.testLoss.toFixed(4)})`,
    `test acc ${m.testAccuracy.toFixed(4)}`,
  ];
  if (m.valAccuracy !== undefined) parts.push(`val acc ${m.valAccuracy.toFixed(4)}`);
  parts.push(duration(m.seconds).padStart(7));
  return parts.join('  ');
}

/** The config on one line, every key, as the run used it (overrides applied). */
export function formatConfig(config: TrainConfig): string {
  return Object.entries(config)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** The short form a person reads first: "15 epochs, batch 10, lr 0.005, momentum 0.9, decay 0.75". */
export function describeConfig(config: TrainConfig): string {
  const parts = [
    `${config.num_epoches} epoch${config.num_epoches === 1 ? '' : 's'}`,
    `batch ${config.batch_size}`,
    `lr ${rate(config.learning_rate)}`,
  ];
  if (config.momentum === 1) parts.push(`momentum ${config.mu}`);
  if (config.learning_decay === 1) parts.push(`decay ×${config.decay_factor}`);
  if (config.validation_split > 0) parts.push(`validation ${config.validation_split}`);
  if (config.weight_decay > 0) parts.push(`weight decay ${config.weight_decay}`);
  if (config.seed !== 0) parts.push(`seed ${config.seed}`);
  return parts.join(', ');
}

/** A path as the user would type it: relative to the working directory when inside it. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const r = relative(cwd, path);
  if (r === '') return '.';
  return r.startsWith('..') || isAbsolute(r) ? path : r;
}

/**
 * How the user ran this command, for hints: `pnpm mnist-lr` from the repository's scripts
 * (where `mnist-lr` is not on the PATH), `mnist-lr` otherwise.
 */
export function invocation(env: NodeJS.ProcessEnv = process.env): string {
  return env['npm_lifecycle_event'] !== undefined && env['npm_package_name'] === 'mnist-lr' ? 'pnpm mnist-lr' : 'mnist-lr';
}
