import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { shortName as shortNameOf } from '@mnist-lr/core/engine';
import { bestOf, readMetricsFile, replaceBetweenMarkers, resultsTable } from './report.js';
import type { EpochLike, RunConfigLike } from './report.js';

const dir = mkdtempSync(join(tmpdir(), 'mnist-lr-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeLines(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const sampleConfig: RunConfigLike = {
  num_epoches: 15,
  batch_size: 10,
  learning_rate: 0.005,
  learning_decay: 0,
  decay_factor: 0.75,
  momentum: 0,
  mu: 0.9,
};
const config3: RunConfigLike = { ...sampleConfig, num_epoches: 20, batch_size: 100, learning_rate: 0.01, learning_decay: 1, momentum: 1 };

const ep = (epoch: number, testLossSum: number, testAccuracy: number): EpochLike => ({
  epoch,
  trainLoss: 0.3,
  testLoss: testLossSum / 10000,
  testLossSum,
  testAccuracy,
});

const startLine = JSON.stringify({ type: 'start', name: 'config_sample', config: { ...sampleConfig, seed: 0, validation_split: 0, weight_decay: 0 }, dataset: 'ab'.repeat(32), workers: 0 });
const epochLine = (e: number): string =>
  JSON.stringify({ type: 'epoch', epoch: e, lr: 0.005, trainLoss: 0.41, trainAccuracy: 0.88, testLossSum: 3310.17, testLoss: 0.331017, testAccuracy: 0.9093, seconds: 0.3 });

describe('readMetricsFile', () => {
  it('reads start, epochs and the end line', () => {
    const path = writeLines('ok.metrics.jsonl', [startLine, epochLine(1), epochLine(2), '{"type":"end"}']);
    const m = readMetricsFile(path);
    expect(m.start.name).toBe('config_sample');
    expect(m.start.config.batch_size).toBe(10);
    expect(m.start.workers).toBe(0);
    expect(m.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(m.epochs[0]).toMatchObject({ testLossSum: 3310.17, testAccuracy: 0.9093, lr: 0.005, seconds: 0.3 });
    expect(m.complete).toBe(true);
  });

  it('marks an interrupted run (no end line) incomplete', () => {
    const m = readMetricsFile(writeLines('cut.metrics.jsonl', [startLine, epochLine(1)]));
    expect(m.complete).toBe(false);
    expect(m.epochs).toHaveLength(1);
  });

  it('names the file and the line of a malformed line', () => {
    const path = writeLines('bad.metrics.jsonl', [startLine, epochLine(1), '{"type":"epoch","epoch":2,"trainLoss":0.4,', '{"type":"end"}']);
    expect(() => readMetricsFile(path)).toThrow(`${path}:3: malformed JSON line`);
  });

  it('names the file and the line of an epoch line missing a metric', () => {
    const path = writeLines('missing.metrics.jsonl', [startLine, '{"type":"epoch","epoch":1,"trainLoss":0.4,"testLoss":0.3,"testLossSum":3000}']);
    expect(() => readMetricsFile(path)).toThrow(`${path}:2: "epoch" line without a numeric "testAccuracy"`);
  });

  it('requires the start line first and epochs in order', () => {
    const noStart = writeLines('nostart.metrics.jsonl', [epochLine(1)]);
    expect(() => readMetricsFile(noStart)).toThrow(`${noStart}:1:`);
    const back = writeLines('back.metrics.jsonl', [startLine, epochLine(2), epochLine(2)]);
    expect(() => readMetricsFile(back)).toThrow(`${back}:3: epoch 2 does not follow epoch 2`);
    const empty = writeLines('empty.metrics.jsonl', []);
    expect(() => readMetricsFile(empty)).toThrow(empty);
  });
});

describe('bestOf', () => {
  const epochs = [ep(1, 3400, 0.9), ep(2, 3300, 0.92), ep(3, 3300, 0.92), ep(4, 3350, 0.91)];

  it('finds min and max with the first epoch on ties', () => {
    expect(bestOf(epochs, 'testLossSum', 'min')).toEqual({ value: 3300, epoch: 2 });
    expect(bestOf(epochs, 'testAccuracy', 'max')).toEqual({ value: 0.92, epoch: 2 });
    expect(bestOf([...epochs].reverse(), 'testAccuracy', 'max')).toEqual({ value: 0.92, epoch: 2 });
  });

  it('skips non-finite values and throws when nothing is left', () => {
    expect(bestOf([ep(1, Number.NaN, 0.5), ep(2, 3500, 0.6)], 'testLossSum', 'min')).toEqual({ value: 3500, epoch: 2 });
    expect(() => bestOf([], 'testLoss', 'min')).toThrow(/testLoss/);
    expect(() => bestOf(epochs, 'valAccuracy', 'max')).toThrow(/valAccuracy/);
  });
});

describe('resultsTable', () => {
  it('writes one column per run and the origin rows', () => {
    const table = resultsTable([
      { name: 'config_sample', shortName: shortNameOf('config_sample'), config: sampleConfig, epochs: [ep(1, 3310.174, 0.9093), ep(2, 3005.5, 0.9151), ep(3, 3100, 0.9151)] },
      { name: 'config_3', shortName: shortNameOf('config_3'), config: config3, epochs: [ep(1, 2900.125, 0.92), ep(2, 2890.004, 0.9261)] },
    ]);
    expect(table.split('\n')).toEqual([
      '|  | config_sample | config_3 |',
      '|:---|:---:|:---:|',
      '| Optimizer | SGD | SGD + momentum |',
      '| Number of Epoches | 15 | 20 |',
      '| Batch Size | 10 | 100 |',
      '| Learning Rate | 0.005 | 0.01 |',
      '| Learning Decay | ---- | 0.75 |',
      '| Momentum (μ) | ---- | 0.9 |',
      '| Optimal Test Loss | 3005.50 @ Epoch 2 | 2890.00 @ Epoch 2 |',
      '| Optimal Test Accuracy | 0.9151 @ Epoch 2 | 0.9261 @ Epoch 2 |',
      '| Loss Trend | ![loss_sample](assets/loss_sample.png) | ![loss_3](assets/loss_3.png) |',
      '| Accuracy Trend | ![accr_sample](assets/accr_sample.png) | ![accr_3](assets/accr_3.png) |',
      '',
    ]);
  });

  it('shows ---- for a run without epochs', () => {
    const table = resultsTable([{ name: 'config_1', shortName: '1', config: sampleConfig, epochs: [] }]);
    expect(table).toContain('| Optimal Test Loss | ---- |');
  });
});

describe('replaceBetweenMarkers', () => {
  const S = '<!-- results:start -->';
  const E = '<!-- results:end -->';

  it('replaces the section, keeps the markers and is idempotent', () => {
    const text = `# Title\n\n${S}\nold table\n${E}\n\nAfter.\n`;
    const once = replaceBetweenMarkers(text, S, E, '| a |\n|---|\n');
    expect(once).toBe(`# Title\n\n${S}\n| a |\n|---|\n${E}\n\nAfter.\n`);
    expect(replaceBetweenMarkers(once, S, E, '| a |\n|---|\n')).toBe(once);
    expect(replaceBetweenMarkers(`${S}${E}`, S, E, 'x')).toBe(`${S}\nx\n${E}`);
  });

  it('throws when a marker is missing or out of order', () => {
    expect(() => replaceBetweenMarkers(`text ${E}`, S, E, 'x')).toThrow(S);
    expect(() => replaceBetweenMarkers(`${S} text`, S, E, 'x')).toThrow(E);
    expect(() => replaceBetweenMarkers(`${E} ${S}`, S, E, 'x')).toThrow(/before/);
    expect(() => replaceBetweenMarkers(`${S}${S}${E}`, S, E, 'x')).toThrow(/more than once/);
  });
});
