import { MnistLrError } from '../errors.js';
import { DELTA_SCALE } from '../math/exact.js';
import { evaluate } from '../math/evaluate.js';
import { epochOrder } from '../math/rng.js';
import type { SparseImages } from '../math/sparse.js';
import type { EpochMetrics, TrainConfig } from '../types.js';
import { applyUpdate } from './optimizer.js';
import { nextLearningRate } from './schedule.js';
import type { GradientSource } from './source.js';
import { stepsPerEpoch, type Split } from './split.js';
import type { TrainState } from './state.js';

/** The dataset as the training loop uses it: sparse images and the data's fingerprint. */
export interface TrainingData {
  train: SparseImages;
  test: SparseImages;
  /** sha256 of the four IDX files' contents (see data/mnist.ts). */
  fingerprint: string;
}

/** Where the loop is, for progress displays. */
export interface StepInfo {
  /** 0-based epoch in progress. */
  epoch: number;
  /** Steps finished in this epoch (1..steps). */
  step: number;
  steps: number;
}

/** Callbacks of a training run (in-process or distributed alike). */
export interface EngineHooks {
  /** After every optimiser step. May be async (a checkpoint write); the loop waits for it. */
  onStep?(info: StepInfo, state: TrainState): void | Promise<void>;
  /** After each epoch's evaluation and decay, with that epoch's metrics already in state.history. */
  onEpoch?(metrics: EpochMetrics, state: TrainState): void | Promise<void>;
}

/** What the training loop is given; the in-process trainer and the coordinator each build one. */
export interface EngineInput {
  config: TrainConfig;
  data: TrainingData;
  split: Split;
  source: GradientSource;
  /** Updated in place; a fresh initialState() or one restored from a checkpoint. */
  state: TrainState;
  hooks?: EngineHooks;
  /** Stops the loop between steps (the state stays consistent and resumable). */
  signal?: AbortSignal;
  /** Milliseconds; injectable so that tests can fix it. Defaults to performance.now. */
  clock?: () => number;
}

/**
 * The training loop of DESIGN.md §6, written once: the in-process trainer and the coordinator
 * differ only in their GradientSource. Each epoch visits the permutation drawn from
 * (seed, epoch) in batches of batch_size (the last one smaller), applies the optimiser, then
 * evaluates, applies the decay rule and reports. Resumes from any step of any epoch.
 */
export async function runTraining(input: EngineInput): Promise<TrainState> {
  const { config, data, split, source, state, hooks, signal } = input;
  const clock = input.clock ?? (() => performance.now());
  const B = config.batch_size;
  const steps = stepsPerEpoch(split.train.length, B);

  while (state.epoch < config.num_epoches) {
    const order = epochOrder(config.seed, state.epoch, split.train);
    const started = clock();
    while (state.step < steps) {
      if (signal?.aborted) return state;
      const from = state.step * B;
      const batch = order.subarray(from, Math.min(from + B, order.length));
      const pending = source.compute(batch, state.weights, state.version);
      const { sums, rows } = pending instanceof Promise ? await pending : pending;
      if (!Number.isFinite(sums.loss)) {
        throw new MnistLrError(
          'NON_FINITE',
          `training diverged at epoch ${state.epoch + 1}, step ${state.step + 1}: the loss is not finite. ` +
            `Lower learning_rate (now ${state.lr}).`,
        );
      }
      applyUpdate(state.weights, state.velocity, sums, batch.length, state.lr, config, rows);
      state.version++;
      state.epochLoss += sums.loss;
      state.epochCorrect += sums.correct;
      state.epochCount += sums.count;
      state.step++;
      if (hooks?.onStep) {
        const r = hooks.onStep({ epoch: state.epoch, step: state.step, steps }, state);
        if (r) await r;
      }
    }
    const seconds = (clock() - started) / 1000;
    const metrics = finishEpoch(input, seconds);
    if (hooks?.onEpoch) await hooks.onEpoch(metrics, state);
  }
  return state;
}

/** Evaluates, records the epoch's metrics, applies the decay rule and moves to the next epoch. */
function finishEpoch(input: EngineInput, seconds: number): EpochMetrics {
  const { config, data, split, state } = input;
  const test = evaluate(state.weights, data.test);
  if (!Number.isFinite(test.lossSum)) {
    throw new MnistLrError('NON_FINITE', `the test loss after epoch ${state.epoch + 1} is not finite. Lower learning_rate (now ${state.lr}).`);
  }
  const metrics: EpochMetrics = {
    epoch: state.epoch + 1,
    lr: state.lr,
    trainLoss: state.epochLoss / DELTA_SCALE / state.epochCount,
    trainAccuracy: state.epochCorrect / state.epochCount,
    testLossSum: test.lossSum,
    testLoss: test.loss,
    testAccuracy: test.accuracy,
    seconds,
  };
  if (split.validation.length > 0) {
    const val = evaluate(state.weights, data.train, split.validation);
    metrics.valLossSum = val.lossSum;
    metrics.valLoss = val.loss;
    metrics.valAccuracy = val.accuracy;
  }
  state.history.push(metrics);
  const watched = state.history.map((m) => (split.validation.length > 0 ? m.valAccuracy! : m.testAccuracy));
  state.lr = nextLearningRate(state.lr, watched, config);
  state.epoch++;
  state.step = 0;
  state.epochLoss = 0;
  state.epochCorrect = 0;
  state.epochCount = 0;
  return metrics;
}
