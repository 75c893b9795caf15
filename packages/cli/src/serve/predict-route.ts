/** POST /predict: an image (PNG or JPEG body) or a JSON 28×28 array in, the model's answer out. */
import { MNIST_SIDE, MnistLrError, modelInput, predict, predictProba, type Classifier, type Raster } from '@mnist-lr/core';

import { decodeImage } from '../images/decode.js';

/** What POST /predict answers. */
export interface PredictionAnswer {
  /** The digit 0..9 the model gives. */
  label: number;
  /** Probability of each digit 0..9. */
  probabilities: number[];
  /** The 28×28 image the model saw (784 bytes, row by row, base64), to show it. */
  image: string;
}

/**
 * The answer for a request body. `contentType` picks the reader: JSON for `application/json`
 * (an array of 28 rows of 28 numbers 0..255, white digit on black, used as MNIST-formatted),
 * otherwise an image file told by its first bytes (PNG, JPEG, IDX), preprocessed as
 * `mnist-lr predict` does. Throws REQUEST_BAD, IMAGE_BAD or IMAGE_BLANK.
 */
export function answer(model: Classifier, body: Buffer, contentType: string | undefined): PredictionAnswer {
  const raster = /^application\/json\b/i.test(contentType ?? '') ? fromJson(body) : imageOf(body);
  const input = modelInput(raster, { name: 'request body' });
  return {
    label: predict(model, input),
    probabilities: Array.from(predictProba(model, input)),
    image: Buffer.from(input).toString('base64'),
  };
}

function imageOf(body: Buffer): Raster {
  if (body.length === 0) throw new MnistLrError('REQUEST_BAD', 'empty request body; POST a PNG or JPEG image, or a JSON 28×28 array with content-type application/json');
  const images = decodeImage(body, 'request body');
  if (images.length !== 1) throw new MnistLrError('IMAGE_BAD', `request body: holds ${images.length} images; send one`);
  return images[0]!.raster;
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
