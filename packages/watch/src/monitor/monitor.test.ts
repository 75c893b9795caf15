import { describe, expect, it } from 'vitest';

import { DELTA_SCALE, initialState, parseConfig } from '@mnist-lr/core/engine';

import { EventLog } from './event-log.js';
import { RunMonitor } from './run-monitor.js';
import { eta, formatEta, RateMeter, remaining } from './eta.js';
import { SliceTimes } from './slice-times.js';
import { StepHistogram } from './step-histogram.js';

describe('SliceTimes', () => {
  it('gives nearest-rank quantiles of the recent window only', () => {
    const t = new SliceTimes(10);
    expect(t.quantiles(0.5)).toEqual([null]);
    for (let i = 1; i <= 100; i++) t.record(i);
    // The window holds 91..100.
    expect(t.quantiles(0.5, 0.95, 1)).toEqual([95, 100, 100]);
  });
});

describe('ETA', () => {
  it('counts the steps and evaluations left', () => {
    const left = remaining(1, 40, 100, 3); // epoch 2 of 3 at step 40
    expect(left).toEqual({ epochSteps: 60, runSteps: 160, epochEnds: 2 });
    expect(eta(left, 20, 1.5)).toEqual({ epoch: 3, run: 8 + 3 });
    expect(eta(left, null, 1)).toEqual({ epoch: null, run: null });
  });

  it('takes the rate over its window of samples', () => {
    const m = new RateMeter(1000);
    m.sample(0, 0);
    expect(m.rate()).toBeNull();
    m.sample(500, 100);
    expect(m.rate()).toBe(200);
    m.sample(1500, 500); // a faster second: the window drops the first sample
    m.sample(2500, 900);
    expect(m.rate()).toBe(400);
  });

  it('formats short', () => {
    expect([formatEta(null), formatEta(9.4), formatEta(245), formatEta(3725)]).toEqual(['…', '9s', '4m05s', '1h02m']);
  });
});

describe('EventLog', () => {
  it('numbers events from 1 and returns those after an id', () => {
    const log = new EventLog(3);
    for (let i = 0; i < 5; i++) log.add('join', `e${i}`, null, i);
    expect(log.lastId).toBe(5);
    expect(log.after(0).map((e) => e.id)).toEqual([3, 4, 5]);
    expect(log.after(4).map((e) => e.text)).toEqual(['e4']);
  });
});

describe('StepHistogram', () => {
  it('puts each time in the first bucket whose bound holds it, the rest in +Inf', () => {
    const h = new StepHistogram(1, 10, 3); // bounds 1, 10, 100
    for (const s of [0.5, 1, 2, 50, 1000]) h.observe(s);
    expect([...h.counts]).toEqual([2, 1, 1, 1]);
    expect(h.count).toBe(5);
    expect(h.sum).toBe(1053.5);
  });
});

describe('RunMonitor', () => {
  it('samples the epoch\'s training loss by steps, so an epoch shorter than any sampling period still draws its curve', () => {
    const config = parseConfig({ num_epoches: 2, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'test');
    // The clock stands still: the whole epoch takes less than one sampling period.
    const monitor = new RunMonitor({ name: 'c', path: 'c.json', config, dataset: 'd', kernel: 'k', engine: 'test', trainImages: 60_000 }, { clock: () => 0, now: () => 0 });
    const state = initialState(config);
    const steps = 600;
    for (let step = 1; step <= 450; step++) {
      state.step = step;
      state.epochCount = step * 100;
      state.epochLoss = 0.5 * DELTA_SCALE * state.epochCount;
      monitor.onStep({ epoch: 0, step, steps }, state);
    }
    const curve = monitor.status().trainLoss;
    // A point at the first step, then every sixth (600 steps / 100 points).
    expect(curve.map(([step]) => step)).toEqual([1, ...Array.from({ length: 75 }, (_, i) => 6 * (i + 1))]);
    expect(curve.every(([, loss]) => loss === 0.5)).toBe(true);
    expect(monitor.status().progress).toMatchObject({ step: 450, steps: 600 });
  });
});
