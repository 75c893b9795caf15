import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../types.js';
import { DECAY_THRESHOLD, nextLearningRate } from './schedule.js';

function config(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    num_epoches: 15,
    batch_size: 10,
    learning_rate: 0.005,
    learning_decay: 1,
    decay_factor: 0.75,
    momentum: 0,
    mu: 0.9,
    seed: 0,
    validation_split: 0,
    weight_decay: 0,
    ...overrides,
  };
}

describe('nextLearningRate (origin: decay when accuracy rose by < 0.001)', () => {
  const cfg = config();

  it('the threshold is 0.001', () => {
    expect(DECAY_THRESHOLD).toBe(0.001);
  });

  it('decays after a rise smaller than 0.001', () => {
    expect(nextLearningRate(0.005, [0.9, 0.9005], cfg)).toBe(0.005 * 0.75);
  });

  it('keeps the rate after a rise of 0.002', () => {
    expect(nextLearningRate(0.005, [0.9, 0.902], cfg)).toBe(0.005);
  });

  it('decays after a fall and after no change', () => {
    expect(nextLearningRate(0.005, [0.9, 0.89], cfg)).toBe(0.005 * 0.75);
    expect(nextLearningRate(0.005, [0.9, 0.9], cfg)).toBe(0.005 * 0.75);
  });

  it('a rise of exactly the threshold does not decay (the rule is "<", not "≤")', () => {
    // 0.001 − 0 is exactly DECAY_THRESHOLD in binary.
    expect(nextLearningRate(0.005, [0, 0.001], cfg)).toBe(0.005);
  });

  it('never decays after the first epoch', () => {
    expect(nextLearningRate(0.005, [], cfg)).toBe(0.005);
    expect(nextLearningRate(0.005, [0.1], cfg)).toBe(0.005);
  });

  it('never decays with learning_decay 0, even when accuracy falls', () => {
    const off = config({ learning_decay: 0 });
    expect(nextLearningRate(0.005, [0.9, 0.5], off)).toBe(0.005);
    expect(nextLearningRate(0.005, [0.9, 0.9, 0.9, 0.9], off)).toBe(0.005);
  });

  it('looks only at the last two epochs', () => {
    expect(nextLearningRate(0.005, [0.5, 0.9, 0.9], cfg)).toBe(0.005 * 0.75);
    expect(nextLearningRate(0.005, [0.9, 0.8, 0.9], cfg)).toBe(0.005);
  });

  it('repeated decays multiply, as the engine applies it epoch by epoch', () => {
    const half = config({ decay_factor: 0.5 });
    // Epochs' accuracies: rises of 0.1 (keep), 0 (decay), 0.0005 (decay), 0.1 (keep), −0.1 (decay).
    const accuracies = [0.5, 0.6, 0.6, 0.6005, 0.7005, 0.6005];
    let lr = 1;
    const rates: number[] = [];
    for (let e = 1; e <= accuracies.length; e++) {
      lr = nextLearningRate(lr, accuracies.slice(0, e), half);
      rates.push(lr);
    }
    expect(rates).toEqual([1, 1, 0.5, 0.25, 0.25, 0.125]);

    let r = 0.005;
    for (let e = 0; e < 3; e++) r = nextLearningRate(r, [0.9, 0.9], cfg);
    expect(r).toBe(0.005 * 0.75 * 0.75 * 0.75);
  });

  it('a decay factor of 1 leaves the rate unchanged', () => {
    expect(nextLearningRate(0.005, [0.9, 0.8], config({ decay_factor: 1 }))).toBe(0.005);
  });
});
