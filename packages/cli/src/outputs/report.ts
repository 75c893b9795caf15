/**
 * Reading metrics files (`logs/<configName>.metrics.jsonl`) and writing the origin-style
 * results table of the README.
 *
 * The types here are local and structural on purpose: they describe only what is read, and
 * core's `EpochMetrics` / `TrainConfig` satisfy them.
 */
import { readFileSync } from 'node:fs';

import type { EpochLike } from './plots.js';

export type { EpochLike } from './plots.js';

/** An epoch line of a metrics file: what the plots and the table read, plus what else it may carry. */
export interface MetricsEpoch extends EpochLike {
  lr?: number;
  trainAccuracy?: number;
  valLossSum?: number;
  seconds?: number;
}

/** The config keys the table reads (core's TrainConfig has these and more). */
export interface RunConfigLike {
  num_epoches: number;
  batch_size: number;
  learning_rate: number;
  learning_decay: number;
  decay_factor: number;
  momentum: number;
  mu: number;
  seed?: number;
  validation_split?: number;
  weight_decay?: number;
}

/** The first line of a metrics file. */
export interface MetricsStart {
  type: 'start';
  name: string;
  config: RunConfigLike;
  dataset?: string;
  workers?: number;
}

export interface MetricsFile {
  start: MetricsStart;
  epochs: MetricsEpoch[];
  /** True when the `{"type":"end"}` line is there (absent when the run was interrupted). */
  complete: boolean;
}

const CONFIG_KEYS = [
  'num_epoches',
  'batch_size',
  'learning_rate',
  'learning_decay',
  'decay_factor',
  'momentum',
  'mu',
] as const satisfies readonly (keyof RunConfigLike)[];

/** Metric values: a number, or null where a diverged run logged NaN/Infinity (read back as NaN). */
const METRIC_KEYS = ['trainLoss', 'testLoss', 'testLossSum', 'testAccuracy'] as const;
const OPTIONAL_METRIC_KEYS = ['lr', 'trainAccuracy', 'valLossSum', 'valLoss', 'valAccuracy', 'seconds'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Read a metrics file. Blank lines are skipped; lines of an unknown `type` are ignored.
 * Throws an error naming `path:line` on a malformed line, a missing or repeated start line,
 * an epoch number that does not increase, or a line after the end line.
 */
export function readMetricsFile(path: string): MetricsFile {
  const text = readFileSync(path, 'utf8');
  const lines = text.split(/\r?\n/);
  let start: MetricsStart | undefined;
  const epochs: MetricsEpoch[] = [];
  let complete = false;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    if (line === '') continue;
    const where = `${path}:${i + 1}`;
    const fail = (why: string): never => {
      throw new Error(`${where}: ${why}`);
    };

    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      fail(`malformed JSON line (${(e as Error).message}): ${line.length > 80 ? `${line.slice(0, 80)}…` : line}`);
    }
    if (!isRecord(record) || typeof record['type'] !== 'string') fail('expected a JSON object with a string "type"');
    const rec = record as Record<string, unknown>;

    if (complete) fail(`line of type "${String(rec['type'])}" after the end line`);

    if (start === undefined) {
      if (rec['type'] !== 'start') fail(`the first line must be of type "start", got "${String(rec['type'])}"`);
      start = parseStart(rec, fail);
      continue;
    }

    switch (rec['type']) {
      case 'start':
        fail('a second "start" line');
        break;
      case 'epoch': {
        const epoch = parseEpoch(rec, fail);
        const prev = epochs[epochs.length - 1];
        if (prev !== undefined && epoch.epoch <= prev.epoch) {
          fail(`epoch ${epoch.epoch} does not follow epoch ${prev.epoch}`);
        }
        epochs.push(epoch);
        break;
      }
      case 'end':
        complete = true;
        break;
      default:
        // Unknown line types are left for newer writers; nothing here depends on them.
        break;
    }
  }
  if (start === undefined) throw new Error(`${path}: empty metrics file (no "start" line)`);
  return { start, epochs, complete };
}

function parseStart(rec: Record<string, unknown>, fail: (why: string) => never): MetricsStart {
  const name = rec['name'];
  if (typeof name !== 'string' || name === '') fail('"start" line without a string "name"');
  const config = rec['config'];
  if (!isRecord(config)) fail('"start" line without a "config" object');
  const cfg = config as Record<string, unknown>;
  for (const key of CONFIG_KEYS) {
    if (typeof cfg[key] !== 'number' || !Number.isFinite(cfg[key])) fail(`"start" config has no numeric "${key}"`);
  }
  const start: MetricsStart = { type: 'start', name: name as string, config: cfg as unknown as RunConfigLike };
  if (typeof rec['dataset'] === 'string') start.dataset = rec['dataset'];
  if (typeof rec['workers'] === 'number') start.workers = rec['workers'];
  return start;
}

function parseEpoch(rec: Record<string, unknown>, fail: (why: string) => never): MetricsEpoch {
  const epoch = rec['epoch'];
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 1) {
    fail(`"epoch" line without a positive integer "epoch" (got ${JSON.stringify(epoch)})`);
  }
  const out: Record<string, number> = { epoch: epoch as number };
  for (const key of METRIC_KEYS) {
    const v = rec[key];
    if (v === null) out[key] = Number.NaN;
    else if (typeof v === 'number') out[key] = v;
    else fail(`"epoch" line without a numeric "${key}" (got ${JSON.stringify(v)})`);
  }
  for (const key of OPTIONAL_METRIC_KEYS) {
    const v = rec[key];
    if (v === undefined) continue;
    if (v === null) out[key] = Number.NaN;
    else if (typeof v === 'number') out[key] = v;
    else fail(`"epoch" line with a non-numeric "${key}" (got ${JSON.stringify(v)})`);
  }
  return out as unknown as MetricsEpoch;
}

/** Numeric metrics of an epoch that `bestOf` can rank. */
export type MetricKey = 'trainLoss' | 'testLoss' | 'testLossSum' | 'testAccuracy' | 'valLoss' | 'valAccuracy';

export interface BestOf {
  value: number;
  epoch: number;
}

/**
 * Best value of `key` over the epochs and the epoch where it was reached; on ties, the
 * earliest epoch. Non-finite or absent values are skipped. Throws when no epoch has a value.
 */
export function bestOf(epochs: readonly EpochLike[], key: MetricKey, mode: 'min' | 'max'): BestOf {
  let best: BestOf | undefined;
  for (const e of epochs) {
    const v = e[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (
      best === undefined ||
      (mode === 'min' ? v < best.value : v > best.value) ||
      (v === best.value && e.epoch < best.epoch)
    ) {
      best = { value: v, epoch: e.epoch };
    }
  }
  if (best === undefined) throw new Error(`bestOf: no epoch has a finite "${key}"`);
  return best;
}

export interface ResultsRun {
  name: string;
  shortName: string;
  config: RunConfigLike;
  epochs: readonly EpochLike[];
}

const OFF = '----';

/**
 * The origin-style results table (markdown): one column per run in the given order, one row
 * per setting or result. Test loss is the sum over the test set (2 decimals), accuracy has 4.
 */
export function resultsTable(runs: readonly ResultsRun[]): string {
  if (runs.length === 0) throw new Error('resultsTable: no runs');
  const best = (r: ResultsRun, key: MetricKey, mode: 'min' | 'max', digits: number): string => {
    if (!r.epochs.some((e) => Number.isFinite(e[key]))) return OFF;
    const b = bestOf(r.epochs, key, mode);
    return `${b.value.toFixed(digits)} @ Epoch ${b.epoch}`;
  };
  const rows: Array<[string, (r: ResultsRun) => string]> = [
    ['Optimizer', (r) => (r.config.momentum ? 'SGD + momentum' : 'SGD')],
    ['Number of Epoches', (r) => String(r.config.num_epoches)],
    ['Batch Size', (r) => String(r.config.batch_size)],
    ['Learning Rate', (r) => String(r.config.learning_rate)],
    ['Learning Decay', (r) => (r.config.learning_decay ? String(r.config.decay_factor) : OFF)],
    ['Momentum (μ)', (r) => (r.config.momentum ? String(r.config.mu) : OFF)],
    ['Optimal Test Loss', (r) => best(r, 'testLossSum', 'min', 2)],
    ['Optimal Test Accuracy', (r) => best(r, 'testAccuracy', 'max', 4)],
    ['Loss Trend', (r) => `![loss_${r.shortName}](assets/loss_${r.shortName}.png)`],
    ['Accuracy Trend', (r) => `![accr_${r.shortName}](assets/accr_${r.shortName}.png)`],
  ];
  const line = (cells: readonly string[]): string => `| ${cells.map(escapeCell).join(' | ')} |`;
  const out = [
    line(['', ...runs.map((r) => r.name)]),
    `|${[':---', ...runs.map(() => ':---:')].join('|')}|`,
    ...rows.map(([label, cell]) => line([label, ...runs.map(cell)])),
  ];
  return `${out.join('\n')}\n`;
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * Replace what lies between the `start` and `end` markers (kept) by `content`, on lines of
 * its own. Throws when a marker is missing, repeated, or the end comes before the start.
 * Idempotent: replacing with the same content again gives the same text.
 */
export function replaceBetweenMarkers(text: string, start: string, end: string, content: string): string {
  const i = text.indexOf(start);
  if (i < 0) throw new Error(`marker ${start} not found`);
  if (text.indexOf(start, i + start.length) >= 0) throw new Error(`marker ${start} appears more than once`);
  const j = text.indexOf(end, i + start.length);
  if (j < 0) {
    throw new Error(text.includes(end) ? `marker ${end} comes before ${start}` : `marker ${end} not found`);
  }
  if (text.indexOf(end, j + end.length) >= 0) throw new Error(`marker ${end} appears more than once`);
  const body = content.replace(/^\n+|\n+$/g, '');
  return `${text.slice(0, i + start.length)}\n${body}${body === '' ? '' : '\n'}${text.slice(j)}`;
}
