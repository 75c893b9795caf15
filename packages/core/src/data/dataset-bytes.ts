/** The dataset from its stream in memory (dataset-stream.ts): how a browser worker loads it. */
import type { TrainingData } from '../train/engine.js';
import { splitDatasetStream } from './dataset-stream.js';
import { inMemory, readSparseDataset, type DatasetFiles } from './sparse-reader.js';

/** The four files of the stream, in its order, by their canonical names. */
export const STREAM_FILES: DatasetFiles<string> = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/**
 * The dataset ready to train on, from its whole decompressed stream; its fingerprint is the
 * stream's SHA-256, for the caller to compare with the one it expects. `source` (where the stream
 * came from) prefixes the files' names in errors.
 */
export function trainingDataFromStream(stream: Uint8Array, source: string): TrainingData {
  const [trainImages, trainLabels, testImages, testLabels] = splitDatasetStream(stream, 4, source);
  const named = (name: string): string => `${source}: ${name}`;
  const bytes = new Map([
    [named(STREAM_FILES.trainImages), trainImages!],
    [named(STREAM_FILES.trainLabels), trainLabels!],
    [named(STREAM_FILES.testImages), testImages!],
    [named(STREAM_FILES.testLabels), testLabels!],
  ]);
  const names = { trainImages: named(STREAM_FILES.trainImages), trainLabels: named(STREAM_FILES.trainLabels), testImages: named(STREAM_FILES.testImages), testLabels: named(STREAM_FILES.testLabels) };
  return readSparseDataset(names, (name) => inMemory(bytes.get(name)!), (name) => bytes.get(name)!);
}
