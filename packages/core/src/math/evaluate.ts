import { createKernel } from './choose-kernel.js';
import type { Evaluation } from './evaluation.js';
import type { Kernel } from './kernel-api.js';
import type { Weights } from './model.js';
import type { SparseImages } from './sparse.js';

export type { Evaluation } from './evaluation.js';

/** The kernel each data set is evaluated with, made on first use (the test set: after every epoch). */
const kernels = new WeakMap<SparseImages, Kernel>();

/**
 * Loss, accuracy and confusion matrix over `indices` of `data` (all of it by default), computed by
 * a kernel over `data` (Kernel.evaluate): the forward pass of training, bit for bit, in
 * WebAssembly where the runtime has it, else in JS.
 */
export function evaluate(weights: Weights, data: SparseImages, indices?: ArrayLike<number>): Evaluation {
  let kernel = kernels.get(data);
  if (kernel === undefined) kernels.set(data, (kernel = createKernel(data)));
  return kernel.evaluate(weights, indices);
}
