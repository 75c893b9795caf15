/** POST /predict: an image (PNG or JPEG body) or a JSON 28×28 array in, the model's answer out. */
import { MNIST_SIDE, MnistLrError, modelInput, predict, predictProba, type Classifier, type Raster } from '@mnist-lr/core/engine';

import type { PredictionAnswer } from './answer.js';

/**
 * Turns the bytes of an image file (PNG, JPEG, IDX, …) into the rasters it holds; throws a coded
 * IMAGE_BAD for bytes it cannot read. Decoding files is the caller's: this package reads no
 * image format itself (the command line passes its PNG and JPEG decoders).
 */
export type ImageDecoder = (bytes: Uint8Array, name: string) => Raster[];

/**
 * The answer for a request body. `contentType` picks the reader: JSON for `application/json`
 * (an array of 28 rows of 28 numbers 0..255, white digit on black, used as MNIST-formatted),
 * otherwise an image file read by `decode`, preprocessed as `mnist-lr predict` does.
 * Throws REQUEST_BAD, IMAGE_BAD or IMAGE_BLANK.
 */
export function answer(model: Classifier, decode: ImageDecoder, body: Buffer, contentType: string | undefined): PredictionAnswer {
  const raster = /^application\/json\b/i.test(contentType ?? '') ? fromJson(body) : imageOf(body, decode);
  const input = modelInput(raster, { name: 'request body' });
  return {
    label: predict(model, input),
    probabilities: Array.from(predictProba(model, input)),
    image: Buffer.from(input).toString('base64'),
  };
}

function imageOf(body: Buffer, decode: ImageDecoder): Raster {
  if (body.length === 0) throw new MnistLrError('REQUEST_BAD', 'empty request body; POST a PNG or JPEG image, or a JSON 28×28 array with content-type application/json');
  const images = decode(body, 'request body');
  if (images.length !== 1) throw new MnistLrError('IMAGE_BAD', `request body: holds ${images.length} images; send one`);
  return images[0]!;
}

function fromJson(body: Buffer): Raster {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new MnistLrError('REQUEST_BAD', `request body: invalid JSON (${(e as Error).message})`);
  }
  const shape = `an array of ${MNIST_SIDE} rows of ${MNIST_SIDE} numbers 0..255`;
  if (!Array.isArray(doc) || doc.length !== MNIST_SIDE) throw new MnistLrError('IMAGE_BAD', `request body: expected ${shape}`);
  const data = new Uint8Array(MNIST_SIDE * MNIST_SIDE);
  doc.forEach((row: unknown, y) => {
    if (!Array.isArray(row) || row.length !== MNIST_SIDE) throw new MnistLrError('IMAGE_BAD', `request body: row ${y} is not ${MNIST_SIDE} numbers; expected ${shape}`);
    row.forEach((v: unknown, x) => {
      if (typeof v !== 'number' || !(v >= 0 && v <= 255)) {
        throw new MnistLrError('IMAGE_BAD', `request body: [${y}][${x}] is ${JSON.stringify(v)}, not a number in 0..255`);
      }
      data[y * MNIST_SIDE + x] = Math.round(v);
    });
  });
  return { width: MNIST_SIDE, height: MNIST_SIDE, channels: 1, data };
}
