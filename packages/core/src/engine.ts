/**
 * @mnist-lr/core/engine: what the sibling packages (worker, coordinator, watch, cli) build on:
 * option checks, shapes, exact sums and row sets, kernels and their memory, the training loop and
 * its parts, checkpoints, and the details of files and preprocessing. Programs of your own want
 * the package's main entry; everything here may change between minor versions.
 */
export * from './index.js';
export { checkConfig, checkOptions, type OptionRule } from './config/options.js';
export { shortName, CONFIG_LIMITS, type ConfigDoc } from './config/schema.js';
export { unwritable } from './errors.js';
export { type MnistSplit, type MnistTest } from './data/mnist.js';
export { parseIdx } from './data/idx.js';
export { readMnistFiles } from './data/mnist.js';
export { datasetStream } from './data/dataset-stream.js';
export { engineName } from './runtime/engine-name.js';
export { toSparse } from './math/sparse.js';
export { PIXELS, CLASSES, MNIST_SIDE } from './math/shape.js';
export { zeroWeights, cloneWeights } from './math/model.js';
export { DELTA_SCALE, emptySums, addSums, type ExactSums } from './math/exact.js';
export { emptyRowSet, clearRows, addRows, addAllRows, rowList, type RowSet } from './math/rows.js';
export { epochOrder, Rng } from './math/rng.js';
export { applyUpdate, updatesOnlyRows } from './train/optimizer.js';
export { jsRowMover, type RowMover } from './math/row-mover.js';
export { claimSharedRegion, type SharedRegion } from './math/wasm/shared-images.js';
export { initialState } from './train/state.js';
export { epochSteps, splitTrainingSet, stepsPerEpoch, type Split } from './train/split.js';
export { LocalGradientSource, type GradientSource, type BatchSums, type KernelChoice, type LocalGradientSourceOptions } from './train/source.js';
export { createKernel } from './math/choose-kernel.js';
export type { Kernel, KernelFactory, KernelName } from './math/kernel-api.js';
export { runTraining, type EngineInput } from './train/engine.js';
export { bestOf } from './train/best.js';
export { encodeModel } from './model/file.js';
export { writeFileAtomic } from './model/atomic.js';
export { loadCheckpoint, saveCheckpoint, decodeCheckpoint, checkCompatible, type Checkpoint, type ResumeTarget } from './checkpoint/file.js';
export { checkpointHooks, DEFAULT_CHECKPOINT_EVERY, type CheckpointHooksOptions, type CheckpointWrite } from './checkpoint/hooks.js';
export { modelInput, type Classifier } from './predict/predict.js';
export { DIGIT_BOX, type FitMode, type PreprocessOptions } from './predict/preprocess.js';
export { type Gray } from './predict/raster.js';
