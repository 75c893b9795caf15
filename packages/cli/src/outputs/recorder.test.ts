import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { loadModel, parseConfig, zeroWeights, type EpochMetrics } from '@mnist-lr/core/engine';

import { RunRecorder, runPaths, type RunInfo } from './recorder.js';
import { readMetricsFile } from './report.js';

const root = mkdtempSync(join(tmpdir(), 'mnist-lr-recorder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = parseConfig(
  { num_epoches: 3, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 },
  'test config',
);
const dataset = 'ab12'.repeat(16);
const info: RunInfo = { name: 'config_1', config, configPath: 'configs/config_1.json', dataset, workers: 0, engine: 'in-process', trainCount: 60000, testCount: 10000 };
const fixedNow = (): Date => new Date('2025-01-02T03:04:05.000Z');

/** A recorder over a history of its own, and what the training loop does at an epoch's end: append to the history, then tell the recorder. */
function recorder(out: string, options: Parameters<typeof RunRecorder.start>[2] = {}): { r: RunRecorder; ended: (m: EpochMetrics, show?: (line: string) => void) => Promise<string> } {
  const history: EpochMetrics[] = [...(options.history ?? [])];
  const r = RunRecorder.start(out, info, { ...options, history });
  return {
    r,
    ended: (m, show) => {
      history.push(m);
      return r.epoch(show);
    },
  };
}

const epoch = (e: number, testLossSum: number, testAccuracy: number): EpochMetrics => ({
  epoch: e,
  lr: 0.0025,
  trainLoss: 0.5 / e,
  trainAccuracy: 0.8,
  testLossSum,
  testLoss: testLossSum / 10000,
  testAccuracy,
  seconds: 0.25,
});

describe('runPaths', () => {
  it('follows the origin names: loss_<short>.png, accr_<short>.png', () => {
    const p = runPaths('/out', 'config_sample');
    expect(p).toEqual({
      log: '/out/logs/config_sample.log',
      metrics: '/out/logs/config_sample.metrics.jsonl',
      lossPlot: '/out/assets/loss_sample.png',
      accuracyPlot: '/out/assets/accr_sample.png',
      model: '/out/models/config_sample.model.json',
      checkpoint: '/out/checkpoints/config_sample.ckpt',
    });
    expect(runPaths('/out', 'mine').lossPlot).toBe('/out/assets/loss_mine.png');
  });
});

describe('RunRecorder', () => {
  it('writes each epoch as it ends, then the summary, plots and model', async () => {
    const out = join(root, 'full');
    const { r, ended } = recorder(out, { now: fixedNow, plotShare: 0 });
    const p = r.paths;
    expect(readMetricsFile(p.metrics)).toMatchObject({ start: { name: 'config_1', dataset, workers: 0 }, epochs: [], complete: false });

    const shown: string[] = [];
    const line = await ended(epoch(1, 4000, 0.88), (l) => shown.push(l));
    expect(shown).toEqual([line]);
    expect(line).toMatch(/^epoch 1\/3 {2}lr 0\.0025 +train loss 0\.5000 {2}test loss {2}4000\.00 \(mean 0\.4000\) {2}test acc 0\.8800 +0\.25 s$/);
    // On disk at once, before the run ends: an interrupted run keeps its epochs.
    expect(readFileSync(p.log, 'utf8')).toContain(line);
    expect(readMetricsFile(p.metrics).epochs).toHaveLength(1);
    // plotShare 0: plots only at the end.
    expect(existsSync(p.lossPlot)).toBe(false);

    await ended(epoch(2, 3900, 0.9));
    await ended(epoch(3, 3950, 0.89));
    const weights = zeroWeights();
    weights.W[5] = 0.125;
    weights.b[9] = -3.5;
    const summary = await r.finish(weights);
    expect(summary.best).toEqual({ testLoss: { value: 3900, epoch: 2 }, testAccuracy: { value: 0.9, epoch: 2 } });

    const metrics = readMetricsFile(p.metrics);
    expect(metrics.complete).toBe(true);
    expect(metrics.start.config).toEqual(config);
    expect(metrics.epochs).toEqual([epoch(1, 4000, 0.88), epoch(2, 3900, 0.9), epoch(3, 3950, 0.89)]);

    const log = readFileSync(p.log, 'utf8');
    expect(log).toContain('config              configs/config_1.json');
    expect(log).toContain('num_epoches=3 batch_size=100 learning_rate=0.0025');
    expect(log).toContain('dataset             sha256 ab12ab12ab12 (60,000 training / 10,000 test images)');
    expect(log).toContain('best test loss      3900.00 @ epoch 2');
    expect(log).toContain('best test accuracy  0.9000 @ epoch 2');

    for (const png of [p.lossPlot, p.accuracyPlot]) {
      expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
    }
    const model = loadModel(p.model);
    expect(model).toMatchObject({ name: 'config_1', dataset, epochs: 3, testLossSum: 3950, testAccuracy: 0.89, config });
    expect(model.weights.W[5]).toBe(0.125);
    expect(model.weights.b[9]).toBe(-3.5);
  });

  it('redraws the plots after an epoch when allowed to', async () => {
    const { r, ended } = recorder(join(root, 'eager'), { plotShare: Number.MAX_VALUE });
    await ended(epoch(1, 4000, 0.88));
    expect(existsSync(r.paths.lossPlot)).toBe(true);
    expect(existsSync(r.paths.accuracyPlot)).toBe(true);
  });

  it('replaces the files of an earlier run, and notes a failure without an end line', async () => {
    const out = join(root, 'again');
    const first = recorder(out, { plotShare: 0 });
    await first.ended(epoch(1, 4000, 0.88));
    await first.ended(epoch(2, 3900, 0.9));

    const { r: second, ended } = recorder(out, { plotShare: 0 });
    expect(readMetricsFile(second.paths.metrics).epochs).toEqual([]);
    await ended(epoch(1, 4100, 0.87));
    second.fail(new Error('boom'));
    const metrics = readMetricsFile(second.paths.metrics);
    expect(metrics.complete).toBe(false);
    expect(metrics.epochs.map((e) => e.testLossSum)).toEqual([4100]);
    const log = readFileSync(second.paths.log, 'utf8');
    expect(log.match(/^epoch /gm)).toHaveLength(1);
    expect(log).toContain('stopped after 1 of 3 epochs: Error: boom');
  });

  it('writes the epochs of a resumed run again after the header', async () => {
    const { r, ended } = recorder(join(root, 'resumed'), { history: [epoch(1, 4000, 0.88)], plotShare: 0 });
    await ended(epoch(2, 3900, 0.9));
    expect(readMetricsFile(r.paths.metrics).epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(r.epochs).toHaveLength(2);
  });

  it('records a diverged metric as null, which reads back as NaN', async () => {
    const { r, ended } = recorder(join(root, 'nan'), { plotShare: 0 });
    await ended({ ...epoch(1, 4000, 0.88), trainLoss: Number.NaN });
    expect(readFileSync(r.paths.metrics, 'utf8')).toContain('"trainLoss":null');
    expect(readMetricsFile(r.paths.metrics).epochs[0]?.trainLoss).toBeNaN();
  });
});
