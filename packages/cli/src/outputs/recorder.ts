/**
 * Everything a training run leaves behind (DESIGN.md §7), written from its events by one module
 * that the in-process trainer and the coordinator both use:
 *
 *   <out>/logs/<name>.log              readable: header, one line per epoch, summary
 *   <out>/logs/<name>.metrics.jsonl    machine-readable: start line, epoch lines, end line
 *   <out>/assets/loss_<short>.png      loss per epoch      (short: config_sample → sample)
 *   <out>/assets/accr_<short>.png      accuracy per epoch
 *   <out>/models/<name>.model.json     the trained model (core's model file)
 *
 * The log and metrics files are replaced when a run starts and appended to line by line as
 * epochs end, so an interrupted run still leaves every finished epoch (report.ts reads such a
 * file as incomplete; `mnist-lr report` draws its plots). The model is written when the run
 * finishes, and so are the plots, which are also redrawn after an epoch when that costs little
 * next to the epoch: drawing both takes about 0.2 s, an in-process epoch 0.3 s, a distributed
 * epoch of small batches ten seconds or more.
 */
import { appendFileSync as appendRaw, mkdirSync, writeFileSync as writeRaw } from 'node:fs';
import { join } from 'node:path';

import {
  kernelFingerprint,
  unwritable,
  bestOf,
  isMnistLrError,
  saveModel,
  shortName,
  type Best,
  type EpochMetrics,
  type TrainConfig,
  type Weights,
} from '@mnist-lr/core/engine';

import { VERSION } from '../version.js';
import { duration, formatConfig, formatEpochLine, int } from './format.js';

/** What a run is, as its outputs record it. */
export interface RunInfo {
  /** Config name: the config file's basename without `.json`. */
  name: string;
  /** The config as trained, overrides applied. */
  config: TrainConfig;
  /** The config file, for the log header. */
  configPath?: string;
  /** Full sha256 fingerprint of the dataset (see core's loadMnist). */
  dataset: string;
  /** 0: trained in-process; N ≥ 1: N workers. Recorded in the metrics start line. */
  workers: number;
  /** How it trains, for the log header: "in-process", "coordinator, 3 local workers". */
  engine: string;
  /** Images in the training and test sets, for the log header. */
  trainCount?: number;
  testCount?: number;
  /** Fingerprint of the kernel that produces the weights; kernelFingerprint() by default. */
  kernel?: string;
}

export interface RunPaths {
  log: string;
  metrics: string;
  lossPlot: string;
  accuracyPlot: string;
  model: string;
  /** The checkpoint --resume continues from (checkpoints are written by core's checkpoint hooks). */
  checkpoint: string;
}

/** The ending of a metrics file's name: logs/<name>.metrics.jsonl. */
export const METRICS_SUFFIX = '.metrics.jsonl';

export interface RunSummary {
  epochs: number;
  best: { testLoss: Best; testAccuracy: Best };
  last: EpochMetrics;
  paths: RunPaths;
}

export interface RecorderOptions {
  /**
   * The run's list of finished epochs, oldest first: its state's `history`, which the training
   * loop appends to and the recorder only reads (it keeps no copy). Epochs already in it (a
   * resumed run) are written again after the header so the files describe the whole run.
   * Default: an empty list of the recorder's own.
   */
  history?: readonly EpochMetrics[];
  /** A resumed run: where from, for a line in the log header ("checkpoints/x.ckpt at epoch 2, step 50"). */
  resumed?: string;
  /** Wall clock for the header and the summary; injectable for tests. Default: `new Date()`. */
  now?: () => Date;
  /**
   * Largest share of the run's time that redrawing the plots after an epoch may take; 0 draws
   * them only at the end. Default 0.05: with 0.2 s per drawing, after epochs of 4 s or more.
   */
  plotShare?: number;
}

/** Where the outputs of run `name` go under `outDir`. */
export function runPaths(outDir: string, name: string): RunPaths {
  const short = shortName(name);
  return {
    log: join(outDir, 'logs', `${name}.log`),
    metrics: join(outDir, 'logs', `${name}${METRICS_SUFFIX}`),
    lossPlot: join(outDir, 'assets', `loss_${short}.png`),
    accuracyPlot: join(outDir, 'assets', `accr_${short}.png`),
    model: join(outDir, 'models', `${name}.model.json`),
    checkpoint: join(outDir, 'checkpoints', `${name}.ckpt`),
  };
}

export class RunRecorder {
  readonly paths: RunPaths;
  readonly info: RunInfo;
  private readonly history: readonly EpochMetrics[];
  private readonly now: () => Date;
  private readonly startedAt: Date;
  private readonly plotShare: number;
  private readonly resumed: string | undefined;
  /** Milliseconds (performance.now) when the plots were last drawn, or the run started. */
  private lastPlotAt = performance.now();
  /** How long a drawing takes, measured after the first; a guess before. */
  private plotMs = 200;
  private plottedEpochs = 0;
  /** Epochs of the history written to the files so far. */
  private written = 0;

  private constructor(outDir: string, info: RunInfo, options: RecorderOptions) {
    this.info = info;
    this.paths = runPaths(outDir, info.name);
    this.history = options.history ?? [];
    this.now = options.now ?? (() => new Date());
    this.startedAt = this.now();
    this.plotShare = options.plotShare ?? 0.05;
    this.resumed = options.resumed;
  }

  /** Creates the folders, replaces the log and metrics files of an earlier run of the same name. */
  static start(outDir: string, info: RunInfo, options: RecorderOptions = {}): RunRecorder {
    const r = new RunRecorder(outDir, info, options);
    mkdirSync(join(outDir, 'logs'), { recursive: true });
    writeFileSync(r.paths.log, r.header());
    const start = { type: 'start', name: info.name, config: info.config, dataset: info.dataset, workers: info.workers };
    writeFileSync(r.paths.metrics, `${JSON.stringify(start)}\n`);
    while (r.written < r.history.length) r.appendEpoch(r.history[r.written]!);
    return r;
  }

  /** Epochs recorded so far, oldest first. */
  get epochs(): readonly EpochMetrics[] {
    return this.history;
  }

  /**
   * After an epoch: records the epochs the run's history gained since the last call (one, as a
   * rule) in both files and hands their log lines to `show` (the terminal prints the same lines),
   * then redraws the plots if that is cheap enough (see `plotShare`). Returns the newest line.
   */
  async epoch(show?: (line: string) => void): Promise<string> {
    let line = '';
    while (this.written < this.history.length) {
      line = this.appendEpoch(this.history[this.written]!);
      show?.(line);
    }
    const since = performance.now() - this.lastPlotAt;
    if (this.plotShare > 0 && this.plotMs <= this.plotShare * since) await this.drawPlots();
    return line;
  }

  /**
   * Ends the run: summary in the log, end line in the metrics, both plots, and the model with
   * `weights` (those after the last recorded epoch).
   */
  async finish(weights: Weights): Promise<RunSummary> {
    const last = this.history[this.history.length - 1];
    if (last === undefined) throw new Error(`RunRecorder.finish(${this.info.name}): no epoch was recorded`);
    const best = bestOf(this.history);
    if (this.plottedEpochs !== this.history.length) await this.drawPlots();
    saveModel(this.paths.model, {
      name: this.info.name,
      config: this.info.config,
      dataset: this.info.dataset,
      kernel: this.info.kernel ?? kernelFingerprint(),
      epochs: this.history.length,
      testLossSum: last.testLossSum,
      testAccuracy: last.testAccuracy,
      weights,
    });
    const seconds = this.history.reduce((s, m) => s + m.seconds, 0);
    const wall = (this.now().getTime() - this.startedAt.getTime()) / 1000;
    appendFileSync(
      this.paths.log,
      [
        '',
        ...summaryLines(best),
        `finished            ${this.now().toISOString()}: ${this.history.length} epoch${this.history.length === 1 ? '' : 's'}, ` +
          `${duration(seconds)} of training steps, ${duration(wall)} in all`,
        '',
      ].join('\n'),
    );
    appendFileSync(this.paths.metrics, `${JSON.stringify({ type: 'end' })}\n`);
    return { epochs: this.history.length, best, last, paths: this.paths };
  }

  /** Notes in the log why the run stopped early; the metrics file stays without its end line. */
  fail(error: unknown): void {
    const why = isMnistLrError(error) ? `error [${error.code}]: ${error.message}` : String(error);
    const done = this.history.length;
    appendFileSync(
      this.paths.log,
      `\nstopped after ${done} of ${this.info.config.num_epoches} epochs: ${why}\n` +
        (done > 0 ? `${summaryLines(bestOf(this.history)).join('\n')}\n` : ''),
    );
  }

  private async drawPlots(): Promise<void> {
    // Loaded on first use: vega and resvg take a third of a second to import, which commands
    // that fail early or draw nothing should not pay.
    const { writePlots } = await import('./plots.js');
    const started = performance.now();
    await writePlots(this.history, this.info.name, this.paths.lossPlot, this.paths.accuracyPlot);
    this.plottedEpochs = this.history.length;
    this.lastPlotAt = performance.now();
    this.plotMs = this.lastPlotAt - started;
  }

  private appendEpoch(m: EpochMetrics): string {
    this.written++;
    const line = formatEpochLine(m, this.info.config.num_epoches);
    appendFileSync(this.paths.log, `${line}\n`);
    // JSON turns a diverged NaN into null, which report.ts reads back as NaN.
    appendFileSync(this.paths.metrics, `${JSON.stringify({ type: 'epoch', ...m })}\n`);
    return line;
  }

  private header(): string {
    const { name, config, configPath, dataset, engine, trainCount, testCount } = this.info;
    const sizes =
      trainCount !== undefined && testCount !== undefined
        ? ` (${int(trainCount)} training / ${int(testCount)} test images)`
        : '';
    return [
      `mnist-lr ${VERSION}: training run ${name}`,
      `started             ${this.startedAt.toISOString()}`,
      ...(this.resumed === undefined ? [] : [`resumed from        ${this.resumed}`]),
      `config              ${configPath ?? name}`,
      `                    ${formatConfig(config)}`,
      `dataset             sha256 ${dataset.slice(0, 12)}${sizes}`,
      `engine              ${engine}, kernel ${this.info.kernel ?? kernelFingerprint()}`,
      '',
      '',
    ].join('\n');
  }
}

/** The origin's table rows: best test loss (sum) and best test accuracy, each with its epoch. */
export function summaryLines(best: { testLoss: Best; testAccuracy: Best }): string[] {
  return [
    `best test loss      ${best.testLoss.value.toFixed(2)} @ epoch ${best.testLoss.epoch}`,
    `best test accuracy  ${best.testAccuracy.value.toFixed(4)} @ epoch ${best.testAccuracy.epoch}`,
  ];
}

/** Writes that fail with a coded error naming the file (a full disk, a read-only folder). */
function writeFileSync(path: string, data: string): void {
  try {
    writeRaw(path, data);
  } catch (e) {
    throw unwritable(path, e);
  }
}

function appendFileSync(path: string, data: string): void {
  try {
    appendRaw(path, data);
  } catch (e) {
    throw unwritable(path, e);
  }
}
