/**
 * @mnist-lr/core: softmax regression on MNIST, pure math and data. No sockets, no codecs:
 * the wire protocol lives in the "@mnist-lr/core/protocol" subpath.
 */
export { MnistLrError, ERROR_CODES, isMnistLrError, unwritable, type ErrorCode } from './errors.js';
export type { TrainConfig, EpochMetrics, Best } from './types.js';

export { parseIdx, readIdxFile, type IdxArray } from './data/idx.js';
export { loadMnist, defaultMnistDir, IMAGE_SIZE, type Mnist, type MnistSplit } from './data/mnist.js';
export { prepareData } from './data/prepare.js';
export { loadTrainingData } from './data/training-data.js';

export { parseConfig, loadConfig, shortName, CONFIG_KEYS, CONFIG_DOCS } from './config/schema.js';

export { toSparse, PIXELS, CLASSES, type SparseImages } from './math/sparse.js';
export { zeroWeights, cloneWeights, type Weights } from './math/model.js';
export { DELTA_SCALE, MAX_EXACT_SAMPLES, emptySums, clearSums, addSums, type ExactSums } from './math/exact.js';
export { accumulate, KERNEL_ID } from './math/kernel.js';
export { emptyRowSet, clearRows, addRows, type RowSet } from './math/rows.js';
export { evaluate, logits, softmax, argmax, type Evaluation } from './math/evaluate.js';
export { denseGradient } from './math/dense.js';
export { Rng, permutation, epochOrder, mix32, STREAM } from './math/rng.js';

export { applyUpdate } from './train/optimizer.js';
export { nextLearningRate, DECAY_THRESHOLD } from './train/schedule.js';
export { initialState, type TrainState } from './train/state.js';
export { splitTrainingSet, type Split } from './train/split.js';
export { LocalGradientSource, batchSums, type GradientSource, type BatchSums, type KernelChoice, type LocalGradientSourceOptions } from './train/source.js';
export { wasmKernelAvailable } from './math/wasm/wasm-kernel.js';
export { runTraining, stepsPerEpoch, type EngineHooks, type EngineInput, type StepInfo, type TrainingData } from './train/engine.js';
export { train, type TrainOptions, type TrainResult } from './train/trainer.js';
export { bestOf } from './train/best.js';

export { encodeModel, decodeModel, saveModel, loadModel, MODEL_FORMAT, MODEL_VERSION, type ModelFile } from './model/file.js';
export { writeFileAtomic } from './model/atomic.js';

export {
  encodeCheckpoint,
  decodeCheckpoint,
  saveCheckpoint,
  loadCheckpoint,
  checkCompatible,
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  type Checkpoint,
  type ResumeTarget,
} from './checkpoint/file.js';
export { checkpointHooks, DEFAULT_CHECKPOINT_EVERY, type CheckpointHooksOptions, type CheckpointWrite } from './checkpoint/hooks.js';
