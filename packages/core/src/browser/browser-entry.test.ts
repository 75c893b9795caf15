/**
 * The ./browser entry loads in an engine without Node's modules: bundled for the browser platform
 * it imports nothing but msgpackr (which the page bundles), and what it computes in place of
 * Node's modules (the portable SHA-256, the dataset read from its stream) gives the same bytes as
 * the Node paths.
 */
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

import { browserName, engineName } from '../runtime/engine-name.js';
import { portableSha256, sha256 } from '../hash/sha256.js';
import { datasetStream, fingerprintOf, splitDatasetStream } from '../data/dataset-stream.js';
import { trainingDataFromStream } from '../data/dataset-bytes.js';
import { readIdxBytes } from '../data/idx.js';
import { defaultMnistDir, mnistPaths } from '../data/mnist.js';
import { loadTrainingData } from '../data/training-data.js';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));

describe('the browser entry', () => {
  it('bundles for the browser platform with no import but msgpackr', async () => {
    const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', external: ['msgpackr'], write: false, metafile: true, logLevel: 'silent' });
    const imports = Object.values(out.metafile.outputs).flatMap((o) => o.imports);
    expect(imports.map((i) => `${i.path}${i.external ? '' : ' (bundled)'}`)).toEqual(['msgpackr']);
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["']node:/);
    // Node's built-ins are only ever asked for by name, where the engine has them (runtime/builtin.ts).
    expect(code).not.toMatch(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](?:fs|path|os|crypto|zlib|module|url|worker_threads)["']/);
  });

  it('hashes as node:crypto does, in any engine', () => {
    const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 131) & 255);
    for (const parts of [[bytes], [bytes.subarray(0, 7), bytes.subarray(7, 64), bytes.subarray(64)], [new Uint8Array(0)]]) {
      const native = sha256();
      const portable = portableSha256();
      for (const p of parts) {
        native.update(p);
        portable.update(p);
      }
      expect(portable.hex()).toBe(native.hex());
    }
  });

  it('reads the dataset from its stream to the same arrays and fingerprint as from the files', () => {
    const paths = mnistPaths(defaultMnistDir());
    const files = [paths.trainImages, paths.trainLabels, paths.testImages, paths.testLabels].map((p) => readIdxBytes(p));
    const pieces = datasetStream(files);
    const stream = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of pieces) {
      stream.set(p, at);
      at += p.length;
    }
    const fromFiles = loadTrainingData();
    const fromStream = trainingDataFromStream(stream, 'the stream');
    expect(fromStream.fingerprint).toBe(fromFiles.fingerprint);
    expect(fingerprintOf(files)).toBe(fromFiles.fingerprint);
    expect(portableSha256().update(stream).hex()).toBe(fromFiles.fingerprint);
    for (const split of ['train', 'test'] as const) {
      for (const key of ['offsets', 'pixels', 'values', 'labels'] as const) {
        expect(Buffer.compare(Buffer.from(fromStream[split][key].buffer, fromStream[split][key].byteOffset, fromStream[split][key].byteLength), Buffer.from(fromFiles[split][key].buffer, fromFiles[split][key].byteOffset, fromFiles[split][key].byteLength))).toBe(0);
      }
    }
    // A stream cut short, or with bytes after its files, is refused naming its source.
    expect(() => splitDatasetStream(stream.subarray(0, stream.length - 1), 4, 'the stream')).toThrow(/the stream: the dataset stream ends inside file 4 of 4/);
    expect(() => trainingDataFromStream(new Uint8Array([...stream.subarray(0, 1000), 0]), 'the stream')).toThrow(/DATASET_MISMATCH|ends inside/);
  });

  it('names the engine it runs in, and browsers by their user agent', () => {
    expect(engineName()).toBe(`Node ${process.versions.node}`);
    expect(browserName({ userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0' })).toBe('Firefox 153');
    expect(browserName({ userAgentData: { brands: [{ brand: 'Not:A-Brand', version: '8' }, { brand: 'Chromium', version: '156' }] } })).toBe('Chromium 156');
    expect(browserName({ userAgentData: { brands: [{ brand: 'Chromium', version: '131' }, { brand: 'Google Chrome', version: '131' }] } })).toBe('Chrome 131');
    expect(browserName({ userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1' })).toBe('Safari 18.2');
    expect(browserName({})).toBe('a browser');
  });
});
