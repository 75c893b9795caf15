import { CLASSES, W_LENGTH } from './shape.js';

/**
 * Softmax-regression parameters. W is 784×10 row-major by pixel (W[p*10 + k]), so one pixel's ten
 * class weights are adjacent: the kernel touches one cache line pair per nonzero pixel.
 */
export interface Weights {
  W: Float64Array;
  b: Float64Array;
}

export function zeroWeights(): Weights {
  return { W: new Float64Array(W_LENGTH), b: new Float64Array(CLASSES) };
}

export function cloneWeights(w: Weights): Weights {
  return { W: w.W.slice(), b: w.b.slice() };
}
