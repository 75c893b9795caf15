/**
 * `mnist-lr export` end to end: the files it writes, read by the tools they are for. The ONNX
 * file runs in onnxruntime (CPU); the .npz is read by NumPy (skipped, with the reason, where
 * python3 with numpy is missing); the JSON by JSON.parse.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipFor } from '../helpers/requires.js';

import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { defaultMnistDir, evaluate, loadMnist, loadModel, predict, predictProba, toSparse, type Mnist, type ModelFile } from '@mnist-lr/core/engine';

import { cli, trainedModel } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-export-'));
let mnist: Mnist;
let test: ReturnType<typeof toSparse>;
let modelPath: string;
let modelDir: string;
let model: ModelFile;

beforeAll(async () => {
  mnist = loadMnist();
  test = toSparse(mnist.test.images, mnist.test.labels, mnist.test.count);
  ({ model: modelPath, dir: modelDir } = await trainedModel());
  model = loadModel(modelPath);
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(modelDir, { recursive: true, force: true });
});

/** Why NumPy cannot be used here, or undefined when it can. */
function numpyMissing(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (r.error) return `python3 is not installed (${r.error.message})`;
  if (r.status !== 0) return `python3 has no numpy (${r.stderr.trim().split('\n').pop() ?? ''})`;
  return undefined;
}

describe('mnist-lr export', () => {
  it('writes an ONNX file that onnxruntime runs to the same labels on the whole test set, probabilities within 1e-6', async () => {
    const file = join(tmp, 'model.onnx');
    const run = await cli('export', '--model', modelPath, '--format', 'onnx', '--out', file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^wrote .*model\.onnx \(onnx, [\d,]+ bytes\)/);
    const bytes = readFileSync(file);
    // Field 1 of ModelProto (ir_version), a varint: 7.
    expect([bytes[0], bytes[1]]).toEqual([0x08, 7]);

    const session = await ort.InferenceSession.create(file);
    expect(session.inputNames).toEqual(['pixels']);
    expect(session.outputNames).toEqual(['probabilities']);
    const n = mnist.test.count;
    const x = new Float32Array(n * 784);
    for (let i = 0; i < x.length; i++) x[i] = mnist.test.images[i]! / 255;
    const out = await session.run({ pixels: new ort.Tensor('float32', x, [n, 784]) });
    const p = out['probabilities']!;
    expect(p.dims).toEqual([n, 10]);
    expect(p.type).toBe('float32');
    const probs = p.data as Float32Array;

    // The library's answers, which are eval's (see the predict tests).
    const images = Array.from({ length: n }, (_, i) => mnist.test.images.subarray(i * 784, (i + 1) * 784));
    const labels = predict(model, images);
    const ours = predictProba(model, images);
    let worst = 0;
    let sameLabels = 0;
    for (let i = 0; i < n; i++) {
      const theirs = probs.subarray(i * 10, (i + 1) * 10);
      for (let k = 0; k < 10; k++) worst = Math.max(worst, Math.abs(theirs[k]! - ours[i]![k]!));
      if (theirs.indexOf(Math.max(...theirs)) === labels[i]) sameLabels++;
    }
    console.log(`onnxruntime against the library on ${n} test images: ${sameLabels} labels the same, largest probability difference ${worst.toExponential(2)}`);
    expect(sameLabels).toBe(n);
    expect(worst).toBeLessThan(1e-6);
    await session.release();
  });

  const noNumpy = numpyMissing();
  it.skipIf(skipFor('the .npz test', noNumpy))('writes a .npz that NumPy reads to eval\'s accuracy', async () => {
    const file = join(tmp, 'model.npz');
    const run = await cli('export', '--model', modelPath, '--out', file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('(npz,');
    const script = `
import sys, numpy as np
m = np.load(sys.argv[1])
W, b = m["W"], m["b"]
assert W.shape == (784, 10) and b.shape == (10,) and W.dtype == np.float64 and b.dtype == np.float64
raw = lambda name, skip: np.frombuffer(open(sys.argv[2] + "/" + name, "rb").read()[skip:], dtype=np.uint8)
X = raw("t10k-images-idx3-ubyte", 16).reshape(-1, 784) / 255.0
y = raw("t10k-labels-idx1-ubyte", 8)
print(int(((X @ W + b).argmax(axis=1) == y).sum()), len(y))
`;
    const [correct, count] = execFileSync('python3', ['-c', script, file, defaultMnistDir()], { encoding: 'utf8' }).trim().split(' ').map(Number);
    const ev = evaluate(model.weights, test);
    expect(count).toBe(ev.count);
    expect(correct).toBe(ev.correct);
  });

  it('writes plain JSON arrays holding the very same float64 weights', async () => {
    const file = join(tmp, 'weights.json');
    const run = await cli('export', '--model', modelPath, '--format', 'json', '--out', file);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { format: string; W: number[][]; b: number[] };
    expect(doc.format).toBe('mnist-lr-weights');
    expect(doc.W).toHaveLength(784);
    expect(doc.W.every((row) => row.length === 10)).toBe(true);
    expect(doc.W.flat().every((v, i) => Object.is(v, model.weights.W[i]))).toBe(true);
    expect(doc.b.every((v, k) => Object.is(v, model.weights.b[k]))).toBe(true);
  });

  it('refuses an unknown format, an output it cannot name, and an unwritable output, with coded errors', async () => {
    const unknown = await cli('export', '--model', modelPath, '--format', 'pickle', '--out', join(tmp, 'm.pkl'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error \[BAD_OPTION\]: --format must be one of onnx, npz, json, got "pickle"/);
    const unnamed = await cli('export', '--model', modelPath, '--out', join(tmp, 'model.bin'));
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toMatch(/^error \[BAD_OPTION\]: say --format onnx\|npz\|json/);
    const blocked = await cli('export', '--model', modelPath, '--out', join(modelPath, 'model.onnx'));
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(/^error \[OUTPUT_UNWRITABLE\]: cannot write .*model\.onnx/);
    expect(blocked.stderr).not.toMatch(/\n\s+at /);
  });
});
