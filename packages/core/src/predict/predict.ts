/**
 * Classifying images with a trained model, with the same arithmetic as `evaluate`, so that an
 * MNIST image gets exactly the label `mnist-lr eval` counts for it.
 */
import { MnistLrError } from '../errors.js';
import { forward, forwardPass, OWN_EXP_LOG, type ForwardPass } from '../math/forward.js';
import type { Weights } from '../math/model.js';
import { CLASSES, PIXELS } from '../math/shape.js';
import { toSparse } from '../math/sparse.js';
import type { ModelFile } from '../model/file.js';
import { preprocess, type PreprocessOptions } from './preprocess.js';
import type { Raster } from './raster.js';

/**
 * One image to classify: either 784 bytes, a 28×28 MNIST-formatted image row by row (white
 * digit on black, 0..255), used as it is; or a `Raster` of any size, which goes through
 * `preprocess` first.
 */
export type ImageInput = Uint8Array | Uint8ClampedArray | Raster;

/** A model file as `loadModel` returns it, or bare weights. */
export type Classifier = Pick<ModelFile, 'weights'> | Weights;

/** The label 0..9 the model gives `image`, or one label per image of a batch (an array). */
export function predict(model: Classifier, image: ImageInput, options?: PreprocessOptions): number;
export function predict(model: Classifier, images: readonly ImageInput[], options?: PreprocessOptions): number[];
export function predict(model: Classifier, input: ImageInput | readonly ImageInput[], options: PreprocessOptions = {}): number | number[] {
  const out = classify(model, input, options, (f) => f.best);
  return Array.isArray(input) ? out : out[0]!;
}

/**
 * The model's 10 class probabilities (softmax of the logits, index = digit) for `image`, or one
 * array per image of a batch.
 */
export function predictProba(model: Classifier, image: ImageInput, options?: PreprocessOptions): Float64Array;
export function predictProba(model: Classifier, images: readonly ImageInput[], options?: PreprocessOptions): Float64Array[];
export function predictProba(model: Classifier, input: ImageInput | readonly ImageInput[], options: PreprocessOptions = {}): Float64Array | Float64Array[] {
  const out = classify(model, input, options, (f) => f.e.map((e) => e / f.sum));
  return Array.isArray(input) ? out : out[0]!;
}

/**
 * The 784 bytes the model sees for `image`: a 784-byte array is taken as MNIST-formatted as it is,
 * a raster is preprocessed. Throws IMAGE_BAD / IMAGE_BLANK.
 */
export function modelInput(image: ImageInput, options: PreprocessOptions = {}): Uint8Array {
  if (image instanceof Uint8Array || image instanceof Uint8ClampedArray) {
    if (image.length !== PIXELS) {
      throw new MnistLrError(
        'IMAGE_BAD',
        `${options.name ?? 'image'}: a bare byte array must hold one 28×28 MNIST-formatted image (784 bytes), got ${image.length}; pass { width, height, channels, data } for other images`,
      );
    }
    return image instanceof Uint8Array ? image : new Uint8Array(image.buffer, image.byteOffset, image.length);
  }
  return preprocess(image, options);
}

function classify<T>(model: Classifier, input: ImageInput | readonly ImageInput[], options: PreprocessOptions, answer: (f: ForwardPass) => T): T[] {
  const weights = 'weights' in model ? model.weights : model;
  if (weights.W.length !== PIXELS * CLASSES || weights.b.length !== CLASSES) {
    throw new MnistLrError('MODEL_BAD_FILE', `weights must be W ${PIXELS}×${CLASSES} and b ${CLASSES}, got ${weights.W.length} and ${weights.b.length} values`);
  }
  const images = Array.isArray(input) ? (input as readonly ImageInput[]) : [input as ImageInput];
  const dense = new Uint8Array(images.length * PIXELS);
  images.forEach((image, i) => {
    const name = Array.isArray(input) ? `${options.name ?? 'image'} ${i}` : options.name;
    dense.set(modelInput(image, { ...options, name }), i * PIXELS);
  });
  // Through the sparse form and `forward`: the very arithmetic evaluate() and training use.
  const sparse = toSparse(dense, new Uint8Array(images.length), images.length);
  const f = forwardPass();
  const out: T[] = [];
  for (let i = 0; i < images.length; i++) {
    forward(weights, sparse, i, f, OWN_EXP_LOG);
    out.push(answer(f));
  }
  return out;
}
