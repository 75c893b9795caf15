import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../config/schema.js';
import { loadMnist, type Mnist } from '../data/mnist.js';
import { prepareData } from '../data/prepare.js';
import { evaluate } from '../math/evaluate.js';
import type { Weights } from '../math/model.js';
import { Rng } from '../math/rng.js';
import { train } from '../train/trainer.js';
import { predict } from './predict.js';
import { DIGIT_BOX, preprocess } from './preprocess.js';
import type { Raster } from './raster.js';

const config2 = loadConfig(fileURLToPath(new URL('../../../../configs/config_2.json', import.meta.url))).config;

let mnist: Mnist;
let weights: Weights;
beforeAll(async () => {
  mnist = loadMnist();
  // One epoch of config_2 (momentum) reaches about 0.91: enough to read clear hand-made digits.
  weights = (await train({ config: { ...config2, num_epoches: 1 }, data: prepareData(mnist) })).weights;
});

/** A width×height gray canvas filled with `background`. */
function canvas(width: number, height: number, background: number): Raster & { data: Uint8Array } {
  return { width, height, channels: 1, data: new Uint8Array(width * height).fill(background) };
}

/** Paints every pixel within `radius` of the segment (x0,y0)-(x1,y1): a round-capped thick stroke. */
function stroke(c: Raster & { data: Uint8Array }, x0: number, y0: number, x1: number, y1: number, radius: number, ink: number): void {
  const dx = x1 - x0, dy = y1 - y0;
  const len2 = dx * dx + dy * dy || 1;
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      const t = Math.max(0, Math.min(1, ((x + 0.5 - x0) * dx + (y + 0.5 - y0) * dy) / len2));
      const ex = x + 0.5 - (x0 + t * dx), ey = y + 0.5 - (y0 + t * dy);
      if (ex * ex + ey * ey <= radius * radius) c.data[y * c.width + x] = ink;
    }
  }
}

/** A ring (ellipse outline) of the given thickness, centred at (cx, cy). */
function ring(c: Raster & { data: Uint8Array }, cx: number, cy: number, rx: number, ry: number, thickness: number, ink: number): void {
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      const u = (x + 0.5 - cx) / rx, v = (y + 0.5 - cy) / ry;
      const r = Math.sqrt(u * u + v * v);
      if (Math.abs(r - 1) * Math.min(rx, ry) <= thickness / 2) c.data[y * c.width + x] = ink;
    }
  }
}

/** One MNIST test image as a 28×28 raster. */
function mnistRaster(i: number): Raster & { data: Uint8Array } {
  return { width: 28, height: 28, channels: 1, data: mnist.test.images.slice(i * 784, (i + 1) * 784) };
}

/** An image `factor` times larger (nearest neighbour), pasted at (left, top) on a larger canvas. */
function enlargeOnto(src: Raster & { data: Uint8Array }, factor: number, out: Raster & { data: Uint8Array }, left: number, top: number): void {
  for (let y = 0; y < src.height * factor; y++) {
    for (let x = 0; x < src.width * factor; x++) {
      out.data[(top + y) * out.width + left + x] = src.data[Math.floor(y / factor) * src.width + Math.floor(x / factor)]!;
    }
  }
}

/** Centre of mass (pixel-edge coordinates) and bounding box of the nonzero pixels of a 28×28 image. */
function measure(img: Uint8Array): { cx: number; cy: number; w: number; h: number; max: number } {
  let m = 0, mx = 0, my = 0, x0 = 28, y0 = 28, x1 = -1, y1 = -1, max = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = img[y * 28 + x]!;
      if (v === 0) continue;
      m += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      max = Math.max(max, v);
    }
  }
  return { cx: mx / m, cy: my / m, w: x1 - x0 + 1, h: y1 - y0 + 1, max };
}

/** Width and height of the dark pixels' bounding box of a raster drawn in black on white. */
function inkExtent(c: Raster): { w: number; h: number } {
  let x0 = c.width, y0 = c.height, x1 = -1, y1 = -1;
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      if (c.data[y * c.width + x]! < 128) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
    }
  }
  return { w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** Pearson correlation of two images. */
function correlation(a: Uint8Array, b: Uint8Array): number {
  const mean = (v: Uint8Array): number => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a), mb = mean(b);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('preprocess', () => {
  it('takes a 28×28 image as MNIST-formatted in auto mode, byte for byte', () => {
    for (const i of [0, 1, 2, 9999]) expect(preprocess(mnistRaster(i))).toEqual(mnistRaster(i).data);
  });

  it('centres an off-centre digit by its centre of mass and scales it into the 20×20 box', () => {
    // A "7" drawn in the top-left corner of a 120×90 image.
    const c = canvas(120, 90, 0);
    stroke(c, 8, 6, 40, 6, 3, 255);
    stroke(c, 40, 6, 20, 50, 3, 255);
    const img = preprocess(c);
    const m = measure(img);
    expect(Math.max(m.w, m.h)).toBe(DIGIT_BOX);
    expect(Math.abs(m.cx - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(m.cy - 14)).toBeLessThanOrEqual(0.5);
    expect(m.max).toBe(255);

    // The same drawing anywhere else on the canvas gives the same 784 bytes.
    const moved = canvas(120, 90, 0);
    stroke(moved, 8 + 70, 6 + 35, 40 + 70, 6 + 35, 3, 255);
    stroke(moved, 40 + 70, 6 + 35, 20 + 70, 50 + 35, 3, 255);
    expect(preprocess(moved)).toEqual(img);
    expect(predict(weights, img)).toBe(7);
  });

  it('recovers an MNIST digit enlarged, moved off centre and scanned dark on light', () => {
    const rng = new Rng(7);
    const grain = (): number => 225 + (rng.next() % 31);
    for (const i of [0, 1, 2, 3, 4]) {
      // Paper at 225..255, the digit's ink as dark as the MNIST image is bright.
      const scan = canvas(260, 180, 0);
      for (let p = 0; p < scan.data.length; p++) scan.data[p] = grain();
      // Specks darker than the grain, as JPEG ringing and dust leave them, far from the digit.
      for (const [x, y] of [[3, 3], [250, 10], [200, 170], [5, 176], [150, 2]] as const) scan.data[y * 260 + x] = 200;
      const digit = mnistRaster(i);
      const dark = { ...digit, data: digit.data.map((v) => Math.min(255 - v, grain())) };
      enlargeOnto(dark, 5, scan, 12, 30);
      const img = preprocess(scan);
      const m = measure(img);
      expect(Math.abs(m.cx - 14)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(m.cy - 14)).toBeLessThanOrEqual(0.5);
      // The paper's grain is gone: the corners are black.
      expect([img[0], img[27], img[28 * 27], img[783]]).toEqual([0, 0, 0, 0]);
      // What the same digit gives when fitted straight from the 28×28 original: the scan's paper,
      // inversion, enlargement and offset leave almost nothing behind.
      expect(correlation(img, preprocess(digit, { fit: 'always' })), `test image ${i}`).toBeGreaterThan(0.95);
      expect(predict(weights, img), `test image ${i}`).toBe(predict(weights, digit.data));
    }
  });

  it('reads thick-stroke 200×200 drawings, black on white', () => {
    const zero = canvas(200, 200, 255);
    ring(zero, 100, 100, 55, 80, 28, 0);
    const one = canvas(200, 200, 255);
    stroke(one, 100, 20, 100, 180, 15, 0);
    const seven = canvas(200, 200, 255);
    stroke(seven, 40, 30, 160, 30, 14, 0);
    stroke(seven, 160, 30, 80, 180, 14, 0);
    for (const [label, drawing] of [[0, zero], [1, one], [7, seven]] as const) {
      const img = preprocess(drawing);
      const m = measure(img);
      expect(Math.max(m.w, m.h), `drawing of ${label}`).toBe(DIGIT_BOX);
      expect(img[0], `drawing of ${label}: background turned black`).toBe(0);
      expect(predict(weights, img), `drawing of ${label}`).toBe(label);
    }
    // The ring keeps its aspect ratio: 20 tall, and as wide as its ink's box in proportion.
    const ink = inkExtent(zero);
    expect(measure(preprocess(zero)).w).toBe(Math.round((20 * ink.w) / ink.h));
  });

  it('keeps a transparent background opposite the ink, in RGBA', () => {
    const gray = canvas(60, 60, 255);
    stroke(gray, 30, 8, 30, 52, 5, 0);
    const rgba = new Uint8Array(60 * 60 * 4);
    // Black ink on fully transparent (0,0,0,0) pixels, as a canvas exports it.
    for (let p = 0; p < 3600; p++) if (gray.data[p] === 0) rgba[p * 4 + 3] = 255;
    expect(preprocess({ width: 60, height: 60, channels: 4, data: rgba })).toEqual(preprocess(gray));
  });

  it('fits a 28×28 image too with fit "always"', () => {
    const small = canvas(28, 28, 0);
    stroke(small, 3, 3, 3, 12, 1, 255);
    const img = preprocess(small, { fit: 'always' });
    expect(measure(img).h).toBe(DIGIT_BOX);
    expect(preprocess(small)).toEqual(small.data);
  });

  it('refuses a blank image and a malformed raster with coded errors naming them', () => {
    expect(() => preprocess(canvas(50, 50, 255), { name: 'blank.png' })).toThrow(expect.objectContaining({ code: 'IMAGE_BLANK', message: expect.stringContaining('blank.png') }));
    expect(() => preprocess({ width: 10, height: 10, channels: 3, data: new Uint8Array(100) }, { name: 'x' })).toThrow(
      expect.objectContaining({ code: 'IMAGE_BAD', message: expect.stringContaining('300 bytes') }),
    );
    expect(() => predict(weights, new Uint8Array(100))).toThrow(expect.objectContaining({ code: 'IMAGE_BAD' }));
  });
});

describe('predict', () => {
  it('gives evaluate\'s label for every MNIST test image, one at a time and as a batch', () => {
    const images = Array.from({ length: mnist.test.count }, (_, i) => mnist.test.images.subarray(i * 784, (i + 1) * 784));
    const labels = predict(weights, images);
    let correct = 0;
    labels.forEach((l, i) => (correct += l === mnist.test.labels[i] ? 1 : 0));
    const ev = evaluate(weights, prepareData(mnist).test);
    expect(correct).toBe(ev.correct);
    expect(predict({ weights }, images[3]!)).toBe(labels[3]);
  });
});
