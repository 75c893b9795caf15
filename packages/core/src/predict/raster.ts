import { MnistLrError } from '../errors.js';


/**
 * A decoded image of any size: `channels` bytes per pixel (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA),
 * row by row from the top left, as PNG and JPEG decoders and a canvas's ImageData give them.
 */
export interface Raster {
  width: number;
  height: number;
  /** Bytes per pixel; default 1. */
  channels?: 1 | 2 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** A grayscale image with intensities 0..255 (not necessarily integers). */
export interface Gray {
  width: number;
  height: number;
  data: Float64Array;
}

/** Throws IMAGE_BAD unless `r` is a raster whose data holds exactly width × height × channels bytes. */
export function checkRaster(r: Raster, what: string): void {
  const channels = r.channels ?? 1;
  const bad = (why: string): MnistLrError => new MnistLrError('IMAGE_BAD', `${what}: ${why}`);
  if (!Number.isSafeInteger(r.width) || !Number.isSafeInteger(r.height) || r.width < 1 || r.height < 1) {
    throw bad(`width and height must be positive integers, got ${String(r.width)}×${String(r.height)}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw bad(`channels must be 1, 2, 3 or 4, got ${String(channels)}`);
  if (!(r.data instanceof Uint8Array || r.data instanceof Uint8ClampedArray)) throw bad('data must be a Uint8Array or Uint8ClampedArray');
  const want = r.width * r.height * channels;
  if (r.data.length !== want) throw bad(`${r.width}×${r.height}×${channels} needs ${want} bytes of data, got ${r.data.length}`);
}

/**
 * Luma of every pixel (ITU-R BT.601 weights, as most image tools use for "grayscale").
 *
 * Transparent pixels are composited over the colour farthest from the ink: a black digit drawn on
 * a transparent canvas must come out black on white, and a white one white on black, although
 * both usually store their transparent pixels as (0, 0, 0, 0). The ink is taken to be the
 * alpha-weighted mean luma of the pixel colours.
 */
export function toGray(r: Raster): Gray {
  const channels = r.channels ?? 1;
  const n = r.width * r.height;
  const out = new Float64Array(n);
  const d = r.data;
  const color = channels >= 3;
  const alpha = channels === 2 || channels === 4;
  for (let i = 0, o = 0; i < n; i++, o += channels) {
    out[i] = color ? 0.299 * d[o]! + 0.587 * d[o + 1]! + 0.114 * d[o + 2]! : d[o]!;
  }
  if (!alpha) return { width: r.width, height: r.height, data: out };

  let weighted = 0;
  let total = 0;
  for (let i = 0, o = channels - 1; i < n; i++, o += channels) {
    const a = d[o]! / 255;
    weighted += a * out[i]!;
    total += a;
  }
  const backdrop = total === 0 || weighted / total < 127.5 ? 255 : 0;
  for (let i = 0, o = channels - 1; i < n; i++, o += channels) {
    const a = d[o]! / 255;
    out[i] = a * out[i]! + (1 - a) * backdrop;
  }
  return { width: r.width, height: r.height, data: out };
}
