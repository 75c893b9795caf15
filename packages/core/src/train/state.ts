import { zeroWeights, type Weights } from '../math/model.js';
import type { EpochMetrics, TrainConfig } from '../types.js';

/**
 * Everything a run needs to continue bit-exactly from where it is: weights, momentum velocity,
 * learning rate (with its decay history in `history`), position in the epoch, the epoch's
 * training-loss sums so far, and the metrics of finished epochs.
 */
export interface TrainState {
  weights: Weights;
  /** Momentum buffers; null for plain SGD. */
  velocity: Weights | null;
  /** Learning rate of the epoch in progress. */
  lr: number;
  /** Epochs finished (= 0-based index of the epoch in progress). */
  epoch: number;
  /** Steps finished in the epoch in progress. */
  step: number;
  /** Exact sums over the finished steps of the epoch in progress (see math/exact.ts). */
  epochLoss: number;
  epochCorrect: number;
  epochCount: number;
  /** Metrics of finished epochs, oldest first. */
  history: EpochMetrics[];
  /** Bumped at every weight update; lets a coordinator send weights only when they changed. */
  version: number;
}

export function initialState(config: TrainConfig): TrainState {
  return {
    weights: zeroWeights(),
    velocity: config.momentum === 1 ? zeroWeights() : null,
    lr: config.learning_rate,
    epoch: 0,
    step: 0,
    epochLoss: 0,
    epochCorrect: 0,
    epochCount: 0,
    history: [],
    version: 0,
  };
}
