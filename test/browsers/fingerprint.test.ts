/**
 * The kernel computes the same bits in every browser engine: core's browser entry, bundled as a
 * page would bundle it, computes the kernel fingerprint in a Web Worker of Chromium (V8) and of
 * Firefox (SpiderMonkey) with the JS kernel and with the WebAssembly SIMD kernel (both browsers
 * have SIMD), and each equals the fingerprint Node computes.
 * Where a browser is missing its tests skip with the reason, except in CI, where they fail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { kernelFingerprint } from '@mnist-lr/core';

import { VIEWPORTS } from '../helpers/browser.js';
import { ROOT } from '../helpers/cluster.js';
import { BROWSERS, useBrowser, waitUntil } from '../helpers/tabs.js';

const WORKER = `
import { kernelFingerprint, prepareEngine } from '@mnist-lr/core/browser';
const { wasm } = await prepareEngine();
postMessage({ wasm, js: kernelFingerprint('js'), wasmKernel: wasm ? kernelFingerprint('wasm') : null, auto: kernelFingerprint() });
`;
const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
const worker = new Worker('/worker.js', { type: 'module' });
worker.onmessage = (e) => { window.result = e.data; };
worker.onerror = (e) => { window.result = { error: String(e.message) }; };
</script>`;

let server: Server;
let url: string;
beforeAll(async () => {
  // Bundled as the watch package's page build bundles the join page's worker, from core's built entry.
  const bundled = await build({ stdin: { contents: WORKER, resolveDir: join(ROOT, 'packages/watch'), loader: 'js' }, bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
  const script = bundled.outputFiles[0]!.text;
  server = createServer((req, res) => {
    const js = req.url === '/worker.js';
    res.writeHead(200, { 'content-type': js ? 'text/javascript' : 'text/html' });
    res.end(js ? script : PAGE);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe.each(BROWSERS)('the kernel fingerprint in %s', (name) => {
  const { skip, browser } = useBrowser(name, 'the fingerprint tests');

  it.skipIf(skip)("equals Node's, with the JS kernel and with the WebAssembly SIMD kernel", async () => {
    const tab = await browser().open(VIEWPORTS.desktop);
    try {
      await tab.goto(url);
      type Result = { wasm: boolean; js: string; wasmKernel: string | null; auto: string; error?: string };
      const result = await waitUntil(() => tab.evaluate(() => (window as unknown as { result?: Result }).result ?? null), (r) => r !== null, 60_000, 'the fingerprints');
      expect(result!.error).toBeUndefined();
      const node = kernelFingerprint('js');
      expect(kernelFingerprint('wasm')).toBe(node);
      expect(result).toEqual({ wasm: true, js: node, wasmKernel: node, auto: node });
      expect(tab.errors).toEqual([]);
    } finally {
      await tab.close();
    }
  });
});
