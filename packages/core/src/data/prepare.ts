import type { TrainingData } from '../train/engine.js';
import { toSparse } from '../math/sparse.js';
import type { Mnist } from './mnist.js';

/**
 * Turns loaded MNIST into the sparse form the kernel trains on. To load and train, prefer
 * loadTrainingData (data/training-data.ts): the same result without a dense copy in memory.
 */
export function prepareData(mnist: Mnist): TrainingData {
  return {
    train: toSparse(mnist.train.images, mnist.train.labels, mnist.train.count),
    test: toSparse(mnist.test.images, mnist.test.labels, mnist.test.count),
    fingerprint: mnist.fingerprint,
  };
}
