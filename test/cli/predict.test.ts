/**
 * `mnist-lr predict` end to end on real files: PNGs written from MNIST test images must get
 * exactly the answer `eval` counts for each image, and bad files coded errors naming them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { evaluate, loadMnist, loadModel, predictProba, toSparse, type Mnist, type ModelFile } from '@mnist-lr/core/engine';

import { cli, trainedModel } from '../helpers/cli.js';

const COUNT = 1000;
const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-predict-'));
let mnist: Mnist;
let modelPath: string;
let model: ModelFile;
let modelDir: string;

/** A PNG of a gray image (RGBA with gray repeated, as most tools write them). */
function grayPng(width: number, height: number, gray: Uint8Array): Buffer {
  const png = new pngjs.PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.fill(gray[i]!, i * 4, i * 4 + 3).fill(255, i * 4 + 3, i * 4 + 4);
  return pngjs.PNG.sync.write(png);
}

interface Entry {
  file: string;
  index?: number;
  label?: number;
  probabilities?: number[];
  error?: { code: string; message: string };
}

beforeAll(async () => {
  mnist = loadMnist();
  ({ model: modelPath, dir: modelDir } = await trainedModel());
  model = loadModel(modelPath);
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(modelDir, { recursive: true, force: true });
});

describe('mnist-lr predict', () => {
  it(`gives eval's answer for each of the first ${COUNT} MNIST test images written as PNGs`, async () => {
    const files: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const file = join(tmp, `test-${i}.png`);
      writeFileSync(file, grayPng(28, 28, mnist.test.images.subarray(i * 784, (i + 1) * 784)));
      files.push(file);
    }
    const run = await cli('predict', '--model', modelPath, '--json', ...files);
    expect(run.code, run.stderr).toBe(0);
    const entries = JSON.parse(run.stdout) as Entry[];
    expect(entries.map((e) => e.file)).toEqual(files);

    // eval's answer for image i: evaluate() on that image alone, read from its confusion matrix.
    const test = toSparse(mnist.test.images, mnist.test.labels, mnist.test.count);
    const indices = Array.from({ length: COUNT }, (_, i) => i);
    const confusion = new Uint32Array(100);
    for (const i of indices) {
      const y = mnist.test.labels[i]!;
      const evalsAnswer = evaluate(model.weights, test, [i]).confusion.subarray(10 * y, 10 * y + 10).indexOf(1);
      const entry = entries[i]!;
      expect(entry.label, files[i]).toBe(evalsAnswer);
      expect(entry.probabilities).toEqual(Array.from(predictProba(model, mnist.test.images.subarray(i * 784, (i + 1) * 784))));
      confusion[10 * y + entry.label!]!++;
    }
    // And the counts eval itself reports over these images, cell by cell.
    expect(confusion).toEqual(evaluate(model.weights, test, indices).confusion);
  });

  it('prints the top 3 classes and draws what the model saw with --show', async () => {
    // A JPEG of a dark "1" on white paper, 90×150 and off centre.
    const width = 90, height = 150;
    const rgba = new Uint8Array(width * height * 4).fill(255);
    for (let y = 20; y < 120; y++) for (let x = 20; x < 32; x++) rgba.fill(0, (y * width + x) * 4, (y * width + x) * 4 + 3);
    const file = join(tmp, 'one.jpg');
    writeFileSync(file, jpeg.encode({ width, height, data: rgba }, 90).data);
    const run = await cli('predict', '--model', modelPath, '--show', file);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  1 0\\.\\d{4}   \\d 0\\.\\d{4}   \\d 0\\.\\d{4}$`));
    expect(lines).toHaveLength(1 + 30);
    // 20 rows of ink, the stroke in the middle columns, centred.
    const rows = lines.slice(2, 30);
    expect(rows.filter((r) => r.includes('█')).length).toBe(20);
    expect(rows[14]!.indexOf('█')).toBeGreaterThan(20);
    expect(rows[14]!.lastIndexOf('█')).toBeLessThan(38);
  });

  it('reads an IDX file of many images, one entry each', async () => {
    const file = join(tmp, 'three.idx');
    const header = Buffer.from([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28]);
    writeFileSync(file, Buffer.concat([header, mnist.test.images.subarray(0, 3 * 784)]));
    const run = await cli('predict', '--model', modelPath, '--json', file);
    expect(run.code, run.stderr).toBe(0);
    const entries = JSON.parse(run.stdout) as Entry[];
    expect(entries.map((e) => [e.file, e.index])).toEqual([[file, 0], [file, 1], [file, 2]]);
  });

  it('refuses bad images with a coded error naming each file, and still answers for the good ones', async () => {
    const notImage = join(tmp, 'notes.png');
    writeFileSync(notImage, 'this is text, not a picture');
    const truncated = join(tmp, 'truncated.png');
    writeFileSync(truncated, grayPng(40, 40, new Uint8Array(1600).fill(9)).subarray(0, 60));
    const blank = join(tmp, 'blank.png');
    writeFileSync(blank, grayPng(40, 40, new Uint8Array(1600).fill(255)));
    const huge = join(tmp, 'huge.png');
    // A valid header claiming 100000×100000 pixels: refused before decoding.
    const header = grayPng(1, 1, new Uint8Array([0]));
    header.writeUInt32BE(100_000, 16);
    header.writeUInt32BE(100_000, 20);
    writeFileSync(huge, header);
    const good = join(tmp, 'good.png');
    writeFileSync(good, grayPng(28, 28, mnist.test.images.subarray(0, 784)));
    const missing = join(tmp, 'missing.png');
    const shortIdx = join(tmp, 'short.idx');
    writeFileSync(shortIdx, Buffer.from([0, 0, 8, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2]));

    const run = await cli('predict', '--model', modelPath, '--json', notImage, truncated, good, blank, huge, missing, shortIdx);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const errors = run.stderr.trimEnd().split('\n');
    expect(errors).toEqual([
      expect.stringMatching(new RegExp(`^error \\[IMAGE_BAD\\]: ${notImage}: not a PNG, JPEG or IDX file`)),
      expect.stringMatching(new RegExp(`^error \\[IMAGE_BAD\\]: ${truncated}: damaged PNG`)),
      expect.stringMatching(new RegExp(`^error \\[IMAGE_BLANK\\]: ${blank}: no digit found`)),
      expect.stringMatching(new RegExp(`^error \\[IMAGE_BAD\\]: ${huge}: 100000×100000 is larger than`)),
      expect.stringMatching(new RegExp(`^error \\[FILE_UNREADABLE\\]: ${missing}: cannot read it \\(ENOENT\\)`)),
      `error [IMAGE_BAD]: ${shortIdx}: not a usable IDX file (truncated: dimensions [28, 28] need 784 data bytes but the file has 2); save the image as PNG, or as IDX of 28×28 unsigned bytes`,
    ]);
    const entries = JSON.parse(run.stdout) as Entry[];
    expect(entries.map((e) => e.error?.code ?? e.label)).toEqual(['IMAGE_BAD', 'IMAGE_BAD', expect.any(Number), 'IMAGE_BLANK', 'IMAGE_BAD', 'FILE_UNREADABLE', 'IMAGE_BAD']);
  });

  it('refuses an unknown --fit and a model that is not one', async () => {
    const image = join(tmp, 'seven.png');
    writeFileSync(image, grayPng(28, 28, mnist.test.images.subarray(0, 784)));
    const bad = await cli('predict', '--model', modelPath, '--fit', 'sometimes', image);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error \[BAD_OPTION\]: --fit must be "auto" or "always"/);
    const notModel = await cli('predict', '--model', image, image);
    expect(notModel.code).toBe(2);
    expect(notModel.stderr).toMatch(/^error \[MODEL_BAD_FILE\]: /);
  });
});
