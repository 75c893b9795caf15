import type { TrainConfig } from '../types.js';

/** The smallest rise in accuracy from one epoch to the next that does not trigger decay. */
export const DECAY_THRESHOLD = 0.001;

/**
 * The origin's learning-rate decay: after each epoch from the second on, if the watched accuracy
 * (test by default, validation when a split is held out) rose by less than 0.001 over the previous
 * epoch's, multiply the learning rate by decay_factor. `accuracies` holds one entry per finished
 * epoch, the newest last. Returns the learning rate for the next epoch.
 */
export function nextLearningRate(lr: number, accuracies: readonly number[], config: TrainConfig): number {
  if (config.learning_decay !== 1 || accuracies.length < 2) return lr;
  const last = accuracies[accuracies.length - 1]!;
  const previous = accuracies[accuracies.length - 2]!;
  return last - previous < DECAY_THRESHOLD ? lr * config.decay_factor : lr;
}
