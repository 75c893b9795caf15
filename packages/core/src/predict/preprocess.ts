/**
 * Turning an arbitrary picture of a digit into what the model was trained on, the way MNIST's
 * own images were made (LeCun et al., "Gradient-based learning applied to document recognition",
 * 1998, and the MNIST page): white ink on black, the digit size-normalised into a 20×20 box with
 * its aspect ratio kept (anti-aliased, so gray levels appear), then placed in a 28×28 field so
 * that its centre of mass is at the field's centre.
 */
import { MnistLrError } from '../errors.js';
import { MNIST_SIDE, PIXELS } from '../math/shape.js';
import { checkRaster, toGray, type Gray, type Raster } from './raster.js';

/** The digit's longer side after scaling, as in MNIST. */
export const DIGIT_BOX = 20;

/**
 * Ink below this fraction of the way from the background level to the darkest stroke is taken as
 * background: the paper grain of a scan and the ringing of a JPEG must not widen the bounding box.
 */
const INK_FLOOR = 0.1;

/**
 * The bounding box is taken around pixels at least this fraction of full ink. A speck of JPEG
 * ringing or paper grain that survives INK_FLOOR is faint; one such pixel at the edge of a photo
 * would otherwise make the box the whole image and shrink the digit to a few pixels.
 */
const BOX_LEVEL = 0.25;

/** An image whose strokes differ from the background by less than this (of 255) holds no digit. */
const MIN_CONTRAST = 16;

/**
 * How much of the MNIST preprocessing to apply.
 * - `auto` (default): an image of exactly 28×28 is taken as MNIST-formatted, as MNIST's own images
 *   are: only made grayscale and white-on-black, not cropped, scaled or moved, so that an MNIST
 *   image gives exactly the answer `evaluate` gives. Any other size gets the whole treatment.
 * - `always`: every image is cropped, scaled and centred, whatever its size.
 */
export type FitMode = 'auto' | 'always';

export interface PreprocessOptions {
  /** Default `auto`. */
  fit?: FitMode;
  /** Names the image in error messages (a file name, say); default "image". */
  name?: string;
}

/**
 * A 28×28 MNIST-formatted image (784 bytes, row by row, white digit on black) from any raster.
 *
 * Steps: grayscale (see `toGray`); inverted when the border is light (a dark digit on paper);
 * the background level (the border's median) mapped to 0 and the strongest ink to 255; cropped to
 * the bounding box of the clear ink (a quarter of full strength or more); scaled by area averaging so the longer side is 20 pixels; placed in
 * 28×28 so that the centre of mass falls on the centre, shifted by whole pixels (no resampling
 * blur), as far as the field allows.
 *
 * Throws IMAGE_BAD for a malformed raster, IMAGE_BLANK for one without a visible stroke.
 */
export function preprocess(image: Raster, options: PreprocessOptions = {}): Uint8Array {
  const name = options.name ?? 'image';
  checkRaster(image, name);
  const gray = toGray(image);
  whiteOnBlack(gray);
  if ((options.fit ?? 'auto') === 'auto' && gray.width === MNIST_SIDE && gray.height === MNIST_SIDE) {
    return toBytes(gray.data);
  }
  stretch(gray, name);
  const box = inkBox(gray);
  const scale = DIGIT_BOX / Math.max(box.w, box.h);
  const w = Math.max(1, Math.min(DIGIT_BOX, Math.round(box.w * scale)));
  const h = Math.max(1, Math.min(DIGIT_BOX, Math.round(box.h * scale)));
  const small = resample(gray, box, w, h);
  return centre(small, w, h);
}

/** Inverts `g` in place when its border is mostly light: MNIST's ink is white on black. */
function whiteOnBlack(g: Gray): void {
  const border = borderValues(g);
  let sum = 0;
  for (const v of border) sum += v;
  if (sum / border.length > 127.5) for (let i = 0; i < g.data.length; i++) g.data[i] = 255 - g.data[i]!;
}

function borderValues(g: Gray): number[] {
  const { width: w, height: h, data } = g;
  const out: number[] = [];
  for (let x = 0; x < w; x++) {
    out.push(data[x]!);
    if (h > 1) out.push(data[(h - 1) * w + x]!);
  }
  for (let y = 1; y < h - 1; y++) {
    out.push(data[y * w]!);
    if (w > 1) out.push(data[y * w + w - 1]!);
  }
  return out;
}

/** Maps the background (border median, raised by INK_FLOOR) to 0 and the strongest ink to 255. */
function stretch(g: Gray, name: string): void {
  const border = borderValues(g).sort((a, b) => a - b);
  const background = border[border.length >> 1]!;
  let peak = -Infinity;
  for (const v of g.data) if (v > peak) peak = v;
  if (peak - background < MIN_CONTRAST) {
    throw new MnistLrError('IMAGE_BLANK', `${name}: no digit found (no stroke stands out from the background); draw or scan a darker, thicker digit`);
  }
  const floor = background + INK_FLOOR * (peak - background);
  const k = 255 / (peak - floor);
  for (let i = 0; i < g.data.length; i++) g.data[i] = Math.max(0, (g.data[i]! - floor) * k);
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The smallest rectangle holding every pixel of at least BOX_LEVEL (stretch made the peak 255). */
function inkBox(g: Gray): Box {
  const level = BOX_LEVEL * 255;
  let x0 = g.width, y0 = g.height, x1 = -1, y1 = -1;
  for (let y = 0; y < g.height; y++) {
    for (let x = 0; x < g.width; x++) {
      if (g.data[y * g.width + x]! >= level) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/**
 * Area-averaging resample of `box` in `g` to w×h: each output pixel is the mean of the source area
 * it covers, which anti-aliases when shrinking and keeps edges soft when enlarging. Separable:
 * rows first, then columns.
 */
function resample(g: Gray, box: Box, w: number, h: number): Float64Array {
  const across = spans(box.w, w);
  const down = spans(box.h, h);
  const rows = new Float64Array(box.h * w);
  for (let y = 0; y < box.h; y++) {
    const src = (box.y + y) * g.width + box.x;
    for (const s of across) {
      let acc = 0;
      for (let j = 0; j < s.weights.length; j++) acc += s.weights[j]! * g.data[src + s.from + j]!;
      rows[y * w + s.to] = acc;
    }
  }
  const out = new Float64Array(w * h);
  for (const s of down) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let j = 0; j < s.weights.length; j++) acc += s.weights[j]! * rows[(s.from + j) * w + x]!;
      out[s.to * w + x] = acc;
    }
  }
  return out;
}

interface Span {
  /** Output index. */
  to: number;
  /** First source index it covers. */
  from: number;
  /** Share of each covered source pixel, summing to 1. */
  weights: Float64Array;
}

/** For each of `m` output pixels along an axis of `n` source pixels, the sources it averages. */
function spans(n: number, m: number): Span[] {
  const step = n / m;
  const out: Span[] = [];
  for (let i = 0; i < m; i++) {
    const a = i * step;
    const b = (i + 1) * step;
    const from = Math.floor(a);
    const to = Math.min(n, Math.ceil(b));
    const weights = new Float64Array(to - from);
    for (let j = from; j < to; j++) weights[j - from] = (Math.min(b, j + 1) - Math.max(a, j)) / step;
    out.push({ to: i, from, weights });
  }
  return out;
}

/**
 * Places the w×h digit in the 28×28 field with its centre of mass at the field's centre (14, 14
 * in pixel-edge coordinates), moved by whole pixels and kept wholly inside the field.
 */
function centre(small: Float64Array, w: number, h: number): Uint8Array {
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = small[y * w + x]!;
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const half = MNIST_SIDE / 2;
  const left = clamp(Math.round(half - mx / mass), 0, MNIST_SIDE - w);
  const top = clamp(Math.round(half - my / mass), 0, MNIST_SIDE - h);
  const field = new Float64Array(PIXELS);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) field[(top + y) * MNIST_SIDE + left + x] = small[y * w + x]!;
  }
  return toBytes(field);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Rounds intensities to bytes (Uint8Array rounds toward zero and wraps, so round and clamp here). */
function toBytes(v: Float64Array): Uint8Array {
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = clamp(Math.round(v[i]!), 0, 255);
  return out;
}
