import { describe, expect, it } from 'vitest';

import { progressLine, type LineState } from './progress-line.js';

const state: LineState = { epoch: 3, epochs: 15, progress: 0.45, done: 2700, steps: 6000, speed: 12345, etaEpoch: 12, etaRun: 185, workers: 2 };

describe('progressLine', () => {
  it('shows everything with a 30-column bar on a wide terminal', () => {
    const line = progressLine(state, 160);
    expect(line).toBe(`epoch 3/15 |${'█'.repeat(14)}${'░'.repeat(16)}| 45% | 2,700/6,000 steps | 12,345 steps/s | ETA 12s, run 3m05s | 2 workers`);
  });

  it('never exceeds the width, and drops the least useful parts first', () => {
    for (let width = 20; width <= 160; width++) {
      const line = progressLine(state, width);
      expect(line.length, `width ${width}: ${line}`).toBeLessThan(width);
      expect(line).toContain('epoch 3/15');
    }
    const at80 = progressLine(state, 80);
    expect(at80).toContain('ETA 12s, run 3m05s');
    expect(at80).toMatch(/\|[█░]{10,}\|/);
    expect(at80).not.toContain('steps |');
    expect(progressLine(state, 40)).toBe('epoch 3/15 45% | ETA 12s, run 3m05s');
  });

  it('says … for what is not known yet and leaves workers out of a run without them', () => {
    const line = progressLine({ ...state, speed: null, etaEpoch: null, etaRun: null, workers: null }, 160);
    expect(line.endsWith('| … steps/s | ETA …, run …')).toBe(true);
  });
});
