import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { PLOT_PNG_WIDTH, renderPlots, writePlots } from './plots.js';
import type { EpochLike } from './plots.js';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function epochs(n: number): EpochLike[] {
  return Array.from({ length: n }, (_, i) => {
    const e = i + 1;
    const testLoss = 0.26 + 0.08 * Math.exp(-e / 3);
    return {
      epoch: e,
      trainLoss: 0.25 + 0.15 * Math.exp(-e / 2.5),
      testLoss,
      testLossSum: testLoss * 10000,
      testAccuracy: 0.926 - 0.02 * Math.exp(-e / 3),
    };
  });
}

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const dir = mkdtempSync(join(tmpdir(), 'mnist-lr-plots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('renderPlots', () => {
  it('renders deterministic 800 px wide PNGs', async () => {
    const first = await renderPlots(epochs(15), 'config_sample');
    for (const png of [first.loss, first.accuracy]) {
      const { width, height } = pngSize(png);
      expect(width).toBe(PLOT_PNG_WIDTH);
      expect(height).toBeGreaterThan(300);
      expect(height).toBeLessThan(800);
      // Axes, labels, lines and text: well above a blank image's few hundred bytes.
      expect(png.length).toBeGreaterThan(10_000);
    }
    expect(first.loss.equals(first.accuracy)).toBe(false);
    const again = await renderPlots(epochs(15), 'config_sample');
    expect(again.loss.equals(first.loss)).toBe(true);
    expect(again.accuracy.equals(first.accuracy)).toBe(true);
  });

  it('rejects an empty run', async () => {
    await expect(renderPlots([], 'config_1')).rejects.toThrow(/config_1/);
  });
});

describe('writePlots', () => {
  it('creates the folders and writes both files', async () => {
    const loss = join(dir, 'a', 'assets', 'loss_3.png');
    const accr = join(dir, 'b', 'accr_3.png');
    const withVal = epochs(3).map((e) => ({ ...e, valLoss: e.testLoss + 0.01, valAccuracy: e.testAccuracy - 0.01 }));
    await writePlots(withVal, 'config_3', loss, accr);
    expect(pngSize(readFileSync(loss)).width).toBe(PLOT_PNG_WIDTH);
    expect(pngSize(readFileSync(accr)).width).toBe(PLOT_PNG_WIDTH);
  });
});
