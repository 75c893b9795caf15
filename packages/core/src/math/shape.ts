/**
 * The shape of the problem, stated once: MNIST images of 28 × 28 pixels, ten digit classes, and a
 * model W (PIXELS × CLASSES, row-major by pixel) plus b (CLASSES). Data loading, the kernels, the
 * optimiser, the wire protocol, checkpoints, model files and exports all size their arrays from here.
 */

/** Side of an MNIST image, pixels. */
export const MNIST_SIDE = 28;
/** Pixels per image: 784. */
export const PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Digit classes 0..9. */
export const CLASSES = 10;
/** Entries of W: 7,840. */
export const W_LENGTH = PIXELS * CLASSES;
