/**
 * The lines docs/using-the-model.md shows for loading an exported model, run as they stand: its
 * NumPy block on the .npz and its ONNX Runtime block on the .onnx that `mnist-lr export` writes.
 * Each block gets `x`, the 10,000 test images (pixel/255), from a few lines put before it, as a
 * reader's own program would, and what it computes is compared with the library's answers.
 * Python with NumPy is required: where it is missing the test fails and says what to install.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defaultMnistDir, loadMnistTest, loadModel, predict, predictProba, type ModelFile } from '@mnist-lr/core';

import { cli, trainedModel } from '../helpers/cli.js';
import { runNode } from '../helpers/examples.js';
import { readDoc, ROOT } from '../helpers/markdown.js';

const PAGE = 'docs/using-the-model.md';
const TEST_IMAGES = join(defaultMnistDir(), 't10k-images-idx3-ubyte');

/** The code block after `<!-- snippet: NAME -->` on the page, with its language. */
function snippet(name: string): { lang: string; code: string } {
  const m = new RegExp(`<!-- snippet: ${name} -->\\n\`\`\`(\\w+)\\n([\\s\\S]*?)\\n\`\`\``).exec(readDoc(PAGE));
  if (!m) throw new Error(`${PAGE} has no block marked <!-- snippet: ${name} -->`);
  return { lang: m[1]!, code: m[2]! };
}

const work = mkdtempSync(join(tmpdir(), 'mnist-lr-snippets-'));
let model: ModelFile;
let images: Uint8Array[];
let labels: Uint8Array;
let modelDir: string;

beforeAll(async () => {
  const trained = await trainedModel();
  modelDir = trained.dir;
  model = loadModel(trained.model);
  for (const out of ['model.npz', 'model.onnx']) {
    const run = await cli('export', '--model', trained.model, '--out', join(work, out));
    expect(run.code, run.stderr).toBe(0);
  }
  const { test } = loadMnistTest();
  images = Array.from({ length: test.count }, (_, i) => test.images.subarray(i * 784, (i + 1) * 784));
  labels = test.labels;
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(modelDir, { recursive: true, force: true });
});

describe(`the documented lines of ${PAGE}`, () => {
  it('the NumPy block labels the test set from the .npz with as many right as the library', () => {
    const { lang, code } = snippet('npz');
    expect(lang).toBe('python');
    const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (numpy.error || numpy.status !== 0) {
      throw new Error(
        `python3 with numpy is needed to run the NumPy lines of ${PAGE} ` +
          `(${numpy.error?.message ?? numpy.stderr.trim().split('\n').pop()}): install it (Debian: apt-get install python3-numpy; .ci/run does)`,
      );
    }
    const program = [
      'import sys',
      'import numpy as np',
      'x = np.frombuffer(open(sys.argv[1], "rb").read()[16:], dtype=np.uint8).reshape(-1, 784) / 255.0',
      code,
      'sys.stdout.write(" ".join(str(int(v)) for v in labels))',
    ].join('\n');
    const run = spawnSync('python3', ['-c', program, TEST_IMAGES], { cwd: work, encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    expect(run.status, run.stderr).toBe(0);
    const theirs = run.stdout.trim().split(' ').map(Number);
    expect(theirs).toHaveLength(images.length);
    const ours = predict(model, images) as number[];
    const right = (l: readonly number[]): number => l.filter((v, i) => v === labels[i]).length;
    const same = theirs.filter((v, i) => v === ours[i]).length;
    console.log(`NumPy lines: ${right(theirs)} of ${theirs.length} right (the library: ${right(ours)}); ${same} labels the same`);
    expect(right(theirs)).toBe(right(ours));
  });

  it('the ONNX Runtime block gives the library\'s labels for the whole test set, probabilities within 1e-6', async () => {
    const { lang, code } = snippet('onnx');
    expect(lang).toBe('js');
    // The reader has installed onnxruntime-node in their project: here, the repository's copy.
    const ort = dirname(createRequire(join(ROOT, 'package.json')).resolve('onnxruntime-node/package.json'));
    mkdirSync(join(work, 'node_modules'), { recursive: true });
    symlinkSync(ort, join(work, 'node_modules/onnxruntime-node'), 'dir');
    const program = [
      "import { readFileSync, writeFileSync } from 'node:fs';",
      'const pixels = readFileSync(process.argv[2]).subarray(16);',
      'const x = Float32Array.from(pixels, (p) => p / 255);',
      code,
      "writeFileSync('probabilities.bin', probabilities.data);",
    ].join('\n');
    writeFileSync(join(work, 'onnx-lines.mjs'), program);
    const run = await runNode(join(work, 'onnx-lines.mjs'), [TEST_IMAGES], { cwd: work, timeoutMs: 120_000 });
    expect(run.code, run.output).toBe(0);
    const bytes = readFileSync(join(work, 'probabilities.bin'));
    const theirs = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    expect(theirs.length).toBe(images.length * 10);
    const ours = predictProba(model, images) as Float64Array[];
    const labelsOurs = predict(model, images) as number[];
    let worst = 0;
    let sameLabels = 0;
    for (let i = 0; i < images.length; i++) {
      const row = theirs.subarray(i * 10, (i + 1) * 10);
      for (let k = 0; k < 10; k++) worst = Math.max(worst, Math.abs(row[k]! - ours[i]![k]!));
      if (row.indexOf(Math.max(...row)) === labelsOurs[i]) sameLabels++;
    }
    console.log(`ONNX Runtime lines: ${sameLabels} of ${images.length} labels the same as the library's, largest probability difference ${worst.toExponential(2)}`);
    expect(sameLabels).toBe(images.length);
    expect(worst).toBeLessThan(1e-6);
  });
});
