/**
 * @mnist-lr/core: softmax regression on MNIST, pure math and data. No sockets, no codecs:
 * the wire protocol lives in the "@mnist-lr/core/protocol" subpath.
 *
 * The surface is what a program training in-process needs (the first group) and what the
 * sibling packages build on (the second); everything else is internal. The README's "Library"
 * section lists the first group with options, defaults and units.
 */

// ---- For users: data, config, training, evaluation, model files, errors ----
export { MnistLrError, ERROR_CODES, isMnistLrError, type ErrorCode } from './errors.js';
export type { TrainConfig, ConfigInput, EpochMetrics, Best } from './types.js';
export { loadMnist, loadMnistTest, defaultMnistDir, type Mnist, type MnistSplit, type MnistTest } from './data/mnist.js';
export { prepareData } from './data/prepare.js';
export { loadTrainingData } from './data/training-data.js';
export { parseConfig, loadConfig, CONFIG_DOCS, CONFIG_LIMITS, type ConfigDoc } from './config/schema.js';
export { train, type TrainOptions, type TrainResult } from './train/trainer.js';
export { evaluate, type Evaluation } from './math/evaluate.js';
export { encodeModel, saveModel, loadModel, type ModelFile } from './model/file.js';
export { weightsSha256 } from './model/weights-hash.js';
export type { Weights } from './math/model.js';
export type { SparseImages } from './math/sparse.js';
export type { TrainState } from './train/state.js';
export type { EngineHooks, StepInfo, TrainingData } from './train/engine.js';

// ---- For the sibling packages (worker, coordinator, cli): the engine's parts ----
export { checkConfig, checkOptions, type OptionRule } from './config/options.js';
export { shortName } from './config/schema.js';
export { unwritable } from './errors.js';
export { toSparse } from './math/sparse.js';
export { PIXELS, CLASSES, MNIST_SIDE } from './math/shape.js';
export { parseIdx } from './data/idx.js';
export { readMnistFiles } from './data/mnist.js';
export { datasetStream } from './data/dataset-stream.js';
export { zeroWeights, cloneWeights } from './math/model.js';
export { DELTA_SCALE, emptySums, addSums, type ExactSums } from './math/exact.js';
export { KERNEL_ID } from './math/kernel.js';
export { emptyRowSet, clearRows, addRows, addAllRows, rowList, type RowSet } from './math/rows.js';
export { epochOrder } from './math/rng.js';
export { applyUpdate, updatesOnlyRows } from './train/optimizer.js';
export { jsRowMover, type RowMover } from './math/row-mover.js';
export { claimSharedRegion, type SharedRegion } from './math/wasm/shared-images.js';
export { initialState } from './train/state.js';
export { epochSteps, splitTrainingSet, stepsPerEpoch, type Split } from './train/split.js';
export { LocalGradientSource, type GradientSource, type BatchSums, type KernelChoice, type LocalGradientSourceOptions } from './train/source.js';
export { createKernel } from './math/choose-kernel.js';
export type { Kernel, KernelFactory, KernelName } from './math/kernel-api.js';
export { kernelFingerprint } from './math/fingerprint.js';
export { engineName } from './runtime/engine-name.js';
export { runTraining, type EngineInput } from './train/engine.js';
export { bestOf } from './train/best.js';
export { writeFileAtomic } from './model/atomic.js';
export { loadCheckpoint, saveCheckpoint, checkCompatible, type Checkpoint, type ResumeTarget } from './checkpoint/file.js';

// ---- Using a trained model: preprocessing and prediction ----
export { predict, predictProba, modelInput, type ImageInput, type Classifier } from './predict/predict.js';
export { preprocess, DIGIT_BOX, type FitMode, type PreprocessOptions } from './predict/preprocess.js';
export { toGray, type Raster, type Gray } from './predict/raster.js';
export { checkpointHooks, DEFAULT_CHECKPOINT_EVERY, type CheckpointHooksOptions, type CheckpointWrite } from './checkpoint/hooks.js';
