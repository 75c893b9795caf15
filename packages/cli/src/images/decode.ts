/**
 * Image files to rasters: PNG (pngjs), JPEG (jpeg-js) and IDX of unsigned bytes (MNIST's own
 * format: one 28×28 image, or a stack of them), told apart by their first bytes, not their names.
 */
import { gunzipSync } from 'node:zlib';

import jpeg from 'jpeg-js';
import pngjs from 'pngjs';

import { MNIST_SIDE, MnistLrError, parseIdx, PIXELS, type Raster } from '@mnist-lr/core/engine';

/**
 * Largest image decoded, in pixels (16 megapixels, a 4096×4096 scan): a PNG or JPEG of a few
 * kilobytes can claim gigapixels, and decoding it would exhaust memory before anything failed.
 */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

/** Largest IDX stack read from one file: MNIST's training set, 60,000 images. */
export const MAX_IDX_IMAGES = 60_000;

/** One image decoded from a file: `index` is its position in an IDX stack, absent otherwise. */
export interface DecodedImage {
  file: string;
  index?: number;
  raster: Raster;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const GZIP_MAGIC = [0x1f, 0x8b];

/** The rasters of an image file, for the draw page's POST /predict (see @mnist-lr/watch's ImageDecoder). */
export function decodeRasters(bytes: Uint8Array, file: string): Raster[] {
  return decodeImage(bytes, file).map((image) => image.raster);
}

/** Decodes `bytes` read from `file`. Throws IMAGE_BAD naming the file for anything unusable. */
export function decodeImage(bytes: Uint8Array, file: string): DecodedImage[] {
  const starts = (magic: number[]): boolean => magic.every((b, i) => bytes[i] === b);
  if (starts(PNG_MAGIC)) return [{ file, raster: decodePng(bytes, file) }];
  if (starts(JPEG_MAGIC)) return [{ file, raster: decodeJpeg(bytes, file) }];
  if (starts(GZIP_MAGIC)) return decodeIdx(gunzip(bytes, file), file);
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x08) return decodeIdx(bytes, file);
  throw bad(file, 'not a PNG, JPEG or IDX file (judged by its first bytes); convert it to PNG');
}

function bad(file: string, why: string, cause?: unknown): MnistLrError {
  return new MnistLrError('IMAGE_BAD', `${file}: ${why}`, cause === undefined ? undefined : { cause });
}

function checkSize(file: string, width: number, height: number): void {
  if (width * height > MAX_IMAGE_PIXELS) {
    throw bad(file, `${width}×${height} is larger than the ${MAX_IMAGE_PIXELS / 1_048_576} megapixels read; scale it down first`);
  }
}

function decodePng(bytes: Uint8Array, file: string): Raster {
  // IHDR comes first: width and height are the big-endian words at bytes 16 and 20.
  if (bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkSize(file, view.getUint32(16), view.getUint32(20));
  }
  try {
    const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  } catch (e) {
    throw bad(file, `damaged PNG (${(e as Error).message})`, e);
  }
}

function decodeJpeg(bytes: Uint8Array, file: string): Raster {
  try {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1_000_000, maxMemoryUsageInMB: 512 });
    return { width: img.width, height: img.height, channels: 4, data: img.data };
  } catch (e) {
    const why = (e as Error).message;
    if (/maxResolutionInMP|maxMemoryUsageInMB/.test(why)) throw bad(file, `larger than the ${MAX_IMAGE_PIXELS / 1_048_576} megapixels read; scale it down first`, e);
    throw bad(file, `damaged JPEG (${why})`, e);
  }
}

function gunzip(bytes: Uint8Array, file: string): Uint8Array {
  try {
    // A stack of 60,000 MNIST images is 47 MB; refuse to inflate a bomb past that.
    return gunzipSync(bytes, { maxOutputLength: 16 + MAX_IDX_IMAGES * MNIST_SIDE * MNIST_SIDE });
  } catch (e) {
    throw bad(file, `gzip data that cannot be inflated into an IDX file of at most ${MAX_IDX_IMAGES} images (${(e as Error).message})`, e);
  }
}

function decodeIdx(bytes: Uint8Array, file: string): DecodedImage[] {
  let idx;
  try {
    idx = parseIdx(bytes, file);
  } catch (e) {
    // The reader's message names the file and advises on training data; keep only why.
    const why = (e as Error).message.replace(`${file}: `, '').replace(/; re-download it.*$/, '');
    throw bad(file, `not a usable IDX file (${why}); save the image as PNG, or as IDX of 28×28 unsigned bytes`, e);
  }
  const [a, b, c] = idx.dims;
  const side = (n: number | undefined): boolean => n === MNIST_SIDE;
  if (idx.dims.length === 2 && side(a) && side(b)) return [{ file, raster: { width: MNIST_SIDE, height: MNIST_SIDE, channels: 1, data: idx.data } }];
  if (idx.dims.length === 3 && side(b) && side(c) && a !== undefined && a >= 1 && a <= MAX_IDX_IMAGES) {
    return Array.from({ length: a }, (_, i) => ({
      file,
      index: i,
      raster: { width: MNIST_SIDE, height: MNIST_SIDE, channels: 1 as const, data: idx.data.subarray(i * PIXELS, (i + 1) * PIXELS) },
    }));
  }
  throw bad(file, `an IDX file of shape [${idx.dims.join(', ')}]; expected one 28×28 image or N×28×28 (N ≤ ${MAX_IDX_IMAGES})`);
}
