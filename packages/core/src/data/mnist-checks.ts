/** The checks of MNIST's files against each other, in any engine (the files are read elsewhere). */
import { MnistLrError } from '../errors.js';
import { CLASSES, MNIST_SIDE } from '../math/shape.js';
import type { IdxArray } from './idx-parse.js';

/** Checks an image file's dimensions ([n, 28, 28]) and returns n. */
export function imageCount(dims: readonly number[], imagesPath: string): number {
  const [n, rows, cols] = dims;
  if (dims.length !== 3 || rows !== MNIST_SIDE || cols !== MNIST_SIDE || n === undefined) {
    throw new MnistLrError(
      'IDX_BAD_SHAPE',
      `${imagesPath}: image file has dimensions [${dims.join(', ')}], expected [n, ${MNIST_SIDE}, ${MNIST_SIDE}]; is it a label file, or not MNIST? Point --data-dir at intact MNIST files`,
    );
  }
  return n;
}

/** Checks a label file against its image file's count, and every label against 0..9. */
export function checkLabels(labels: IdxArray, labelsPath: string, n: number, imagesPath: string): Uint8Array {
  if (labels.dims.length !== 1) {
    throw new MnistLrError(
      'IDX_BAD_SHAPE',
      `${labelsPath}: label file has dimensions [${labels.dims.join(', ')}], expected [n]; is it an image file, or not MNIST? Point --data-dir at intact MNIST files`,
    );
  }
  if (labels.dims[0] !== n) {
    throw new MnistLrError(
      'MNIST_INCONSISTENT',
      `${imagesPath} holds ${n} images but ${labelsPath} holds ${labels.dims[0]} labels; the files come from different sets, use a matching pair`,
    );
  }
  const lab = labels.data;
  for (let i = 0; i < lab.length; i++) {
    if ((lab[i] ?? 0) >= CLASSES) {
      throw new MnistLrError(
        'MNIST_INCONSISTENT',
        `${labelsPath}: label #${i} is ${lab[i]}, outside 0..${CLASSES - 1}; re-download it or point --data-dir at intact MNIST files`,
      );
    }
  }
  return lab;
}
