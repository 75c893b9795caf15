import type { Best, EpochMetrics } from '../types.js';

/** The lowest test loss and the highest test accuracy of a run, each with its (first) epoch. */
export function bestOf(history: readonly EpochMetrics[]): { testLoss: Best; testAccuracy: Best } {
  let testLoss: Best = { value: Infinity, epoch: 0 };
  let testAccuracy: Best = { value: -Infinity, epoch: 0 };
  for (const m of history) {
    if (m.testLossSum < testLoss.value) testLoss = { value: m.testLossSum, epoch: m.epoch };
    if (m.testAccuracy > testAccuracy.value) testAccuracy = { value: m.testAccuracy, epoch: m.epoch };
  }
  return { testLoss, testAccuracy };
}
