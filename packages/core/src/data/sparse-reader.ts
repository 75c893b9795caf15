/**
 * Reads the four MNIST files straight into the sparse form the kernel trains on, fingerprinting
 * them on the way, without ever holding a dense copy of the images; in any engine. Where the bytes
 * come from is the caller's: files on disk (training-data.ts), or the dataset stream a browser
 * worker downloaded (dataset-bytes.ts).
 *
 * Each image file is read twice in chunks of a few thousand images: once to hash it and count its
 * nonzero pixels, so that the sparse arrays are allocated at their exact size, once to fill them
 * (sparsify.ts).
 */
import { MnistLrError } from '../errors.js';
import { sha256, type Sha256 } from '../hash/sha256.js';
import { PIXELS } from '../math/shape.js';
import { allocSparse, type SparseImages } from '../math/sparse.js';
import { allocKernelImages } from '../math/wasm/shared-images.js';
import type { TrainingData } from '../train/engine.js';
import { lengthPrefix } from './dataset-stream.js';
import { IDX_MAX_HEADER, parseIdx, parseIdxHeader } from './idx-parse.js';
import { checkLabels, imageCount } from './mnist-checks.js';
import { createSparsifier } from './sparsify.js';

/**
 * Images per chunk read: 512 × 784 bytes, 0.4 MB of buffer (1.6 MB with the module's sparse
 * output). Small, because on virtual machines the first touch of a page can cost tens of µs.
 */
const CHUNK_IMAGES = 512;

/** The decompressed bytes of an IDX file, read by position. */
export interface ByteSource {
  readonly length: number;
  /** Fills `into` from `position`; the caller asks only for bytes inside the file. */
  read(into: Uint8Array, position: number): void;
  close(): void;
}

/** The four files of MNIST, in the dataset stream's order. */
export interface DatasetFiles<T> {
  trainImages: T;
  trainLabels: T;
  testImages: T;
  testLabels: T;
}

/**
 * The dataset ready to train on, from the four files named `names` (as errors name them): image
 * files read through `images`, label files whole through `labels`, one after another in the
 * stream's order. The training images live in a shared WebAssembly memory where the kernel runs
 * (see allocKernelImages), the test images in a SharedArrayBuffer where the engine has one (see
 * allocSparse). Throws MnistLrError IDX_* and MNIST_INCONSISTENT.
 */
export function readSparseDataset(names: DatasetFiles<string>, images: (name: string) => ByteSource, labels: (name: string) => Uint8Array): TrainingData {
  const hash = sha256();
  // The training images go where every WebAssembly kernel, in any thread, reads them in place.
  const train = withLabels(readSparseImages(images(names.trainImages), names.trainImages, hash, allocKernelImages), names.trainImages, labels(names.trainLabels), names.trainLabels, hash);
  const test = withLabels(readSparseImages(images(names.testImages), names.testImages, hash, allocSparse), names.testImages, labels(names.testLabels), names.testLabels, hash);
  return { train, test, fingerprint: hash.hex() };
}

/** A source over bytes in memory. */
export function inMemory(bytes: Uint8Array): ByteSource {
  return { length: bytes.length, read: (into, position) => into.set(bytes.subarray(position, position + into.length)), close: () => {} };
}

function withLabels(images: SparseImages, imagesPath: string, bytes: Uint8Array, labelsPath: string, hash: Sha256): SparseImages {
  hash.update(lengthPrefix(bytes.length));
  hash.update(bytes);
  images.labels.set(checkLabels(parseIdx(bytes, labelsPath), labelsPath, images.count, imagesPath));
  return images;
}

/**
 * Reads an image file into sparse images (labels left zero), hashing it into `hash` as the dataset
 * stream has it (dataset-stream.ts). Closes the source.
 */
function readSparseImages(source: ByteSource, path: string, hash: Sha256, alloc: (count: number, nnz: number) => SparseImages): SparseImages {
  try {
    const head = new Uint8Array(Math.min(IDX_MAX_HEADER, source.length));
    source.read(head, 0);
    const { dims, headerLen } = parseIdxHeader(head, source.length, path);
    const count = imageCount(dims, path);
    hash.update(lengthPrefix(source.length));
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
