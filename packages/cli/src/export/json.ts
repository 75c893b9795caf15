/**
 * A trained model as plain JSON arrays, for any language: `W[p][k]` is the weight of pixel p (row
 * by row from the top left of the 28×28 image) for digit k, `b[k]` the bias of digit k; the logits
 * of an image x (784 values, pixel/255) are z_k = Σ_p x_p·W[p][k] + b_k. Numbers are written in
 * the shortest form that reads back to the same float64, so nothing is rounded.
 */
import { CLASSES, PIXELS, type ModelFile } from '@mnist-lr/core/engine';

export const WEIGHTS_JSON_FORMAT = 'mnist-lr-weights';

export function toWeightsJson(model: ModelFile): string {
  const W = Array.from({ length: PIXELS }, (_, p) => Array.from(model.weights.W.subarray(p * CLASSES, (p + 1) * CLASSES)));
  const doc = {
    format: WEIGHTS_JSON_FORMAT,
    name: model.name,
    layout: 'logits[k] = sum over p of x[p] * W[p][k] + b[k]; x[p] = pixel p / 255, pixels row by row from the top left of a 28x28 image, white digit on black',
    dataset: model.dataset,
    epochs: model.epochs,
    testAccuracy: model.testAccuracy,
    W,
    b: Array.from(model.weights.b),
  };
  return `${JSON.stringify(doc)}\n`;
}
