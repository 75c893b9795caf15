/**
 * `mnist-lr serve` end to end: the built command in its own process, real HTTP on real sockets.
 * Answers must be exactly the library's; bad, oversized and slow requests get coded errors; from
 * beyond loopback nothing but /healthz answers without the token.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipFor } from '../helpers/requires.js';

import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadMnist, loadModel, predict, predictProba, type Mnist, type ModelFile } from '@mnist-lr/core';

import { cli, trainedModel } from '../helpers/cli.js';
import { serve, type Served } from '../helpers/serve.js';

const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-serve-'));
let mnist: Mnist;
let modelPath: string;
let modelDir: string;
let model: ModelFile;
let server: Served;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request; `chunks` are written with pauses between them when given. */
function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string; chunks?: Uint8Array[] } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    // A server that refuses a body early may close before the client has written it all.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    if (options.chunks) {
      const rest = [...options.chunks];
      const next = (): void => {
        const chunk = rest.shift();
        if (chunk === undefined) req.end();
        else if (!req.destroyed) req.write(chunk, () => setTimeout(next, 5));
      };
      next();
    } else req.end(options.body);
  });
}

function grayPng(width: number, height: number, gray: Uint8Array): Buffer {
  const png = new pngjs.PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.fill(gray[i]!, i * 4, i * 4 + 3).fill(255, i * 4 + 3, i * 4 + 4);
  return pngjs.PNG.sync.write(png);
}

const image = (i: number): Uint8Array => mnist.test.images.subarray(i * 784, (i + 1) * 784);
const errorCode = (r: Reply): string => (JSON.parse(r.body) as { error: { code: string } }).error.code;

beforeAll(async () => {
  mnist = loadMnist();
  ({ model: modelPath, dir: modelDir } = await trainedModel());
  model = loadModel(modelPath);
  server = await serve('--model', modelPath, '--port', '0', '--max-body', '64', '--request-timeout', '2');
});
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(modelDir, { recursive: true, force: true });
});

describe('mnist-lr serve', () => {
  it('answers concurrent PNG and JSON requests, each exactly as the library does', async () => {
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        const pixels = image(i);
        const asJson = i % 2 === 1;
        const rows = Array.from({ length: 28 }, (_, y) => Array.from(pixels.subarray(y * 28, y * 28 + 28)));
        return http(`${server.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': asJson ? 'application/json' : 'image/png' },
          body: asJson ? JSON.stringify(rows) : grayPng(28, 28, pixels),
        });
      }),
    );
    replies.forEach((r, i) => {
      expect(r.status, r.body).toBe(200);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      const a = JSON.parse(r.body) as { label: number; probabilities: number[]; image: string };
      expect(a.label, `image ${i}`).toBe(predict(model, image(i)));
      expect(a.probabilities).toEqual(Array.from(predictProba(model, image(i))));
      expect(Buffer.from(a.image, 'base64')).toEqual(Buffer.from(image(i)));
    });
  });

  it('refuses an oversized body, declared or streamed, with REQUEST_TOO_LARGE', async () => {
    const big = new Uint8Array(65 * 1024 + 1);
    const declared = await http(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: big });
    expect(declared.status).toBe(413);
    expect(errorCode(declared)).toBe('REQUEST_TOO_LARGE');
    // Chunked: no Content-Length to refuse early, so the count while reading must stop it.
    const chunk = new Uint8Array(16 * 1024);
    const streamed = await http(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' }, chunks: Array(8).fill(chunk) as Uint8Array[] });
    expect(streamed.status).toBe(413);
    expect(errorCode(streamed)).toBe('REQUEST_TOO_LARGE');
    // The server is still there for the next client.
    expect((await http(`${server.url}/healthz`)).status).toBe(200);
  });

  it('refuses a bad image, a blank one, bad JSON and a wrong shape with coded errors', async () => {
    const post = (body: string | Uint8Array, type: string): Promise<Reply> => http(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': type }, body });
    const notImage = await post('GIF89a not really', 'image/png');
    expect([notImage.status, errorCode(notImage)]).toEqual([400, 'IMAGE_BAD']);
    expect(notImage.body).toContain('request body: not a PNG, JPEG or IDX file');
    const truncated = await post(grayPng(40, 40, new Uint8Array(1600).fill(7)).subarray(0, 70), 'image/png');
    expect([truncated.status, errorCode(truncated)]).toEqual([400, 'IMAGE_BAD']);
    const blank = await post(grayPng(40, 40, new Uint8Array(1600).fill(255)), 'image/png');
    expect([blank.status, errorCode(blank)]).toEqual([422, 'IMAGE_BLANK']);
    const badJson = await post('[[1, 2', 'application/json');
    expect([badJson.status, errorCode(badJson)]).toEqual([400, 'REQUEST_BAD']);
    const wrongShape = await post(JSON.stringify([[1, 2, 3]]), 'application/json');
    expect([wrongShape.status, errorCode(wrongShape)]).toEqual([400, 'IMAGE_BAD']);
    const outOfRange = await post(JSON.stringify(Array.from({ length: 28 }, () => Array(28).fill(300))), 'application/json');
    expect([outOfRange.status, errorCode(outOfRange)]).toEqual([400, 'IMAGE_BAD']);
    expect(outOfRange.body).toContain('[0][0] is 300');
    const empty = await post('', 'image/png');
    expect([empty.status, errorCode(empty)]).toEqual([400, 'REQUEST_BAD']);
    const nowhere = await http(`${server.url}/nowhere`);
    expect([nowhere.status, errorCode(nowhere)]).toEqual([404, 'NOT_FOUND']);
  });

  it('gives up on a body that does not arrive in time, with REQUEST_TIMEOUT', async () => {
    // Declares 1000 bytes, sends 10 and stalls: the server's 2 s limit answers, not the client.
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = request(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'image/png', 'content-length': '1000' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.write(new Uint8Array(10));
    });
    expect([reply.status, errorCode(reply)]).toEqual([408, 'REQUEST_TIMEOUT']);
  });

  it('serves the draw page, its script and style from the process, under a strict CSP', async () => {
    const page = await http(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // No inline script or style, and nothing from another host.
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toMatch(/\sstyle=/);
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    const script = await http(`${server.url}/draw.js`);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    // Its requests go to a relative URL, so the page also works mounted under /draw/.
    expect(script.body).toMatch(/fetch\(["']predict["']/);
    const style = await http(`${server.url}/draw.css`);
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(JSON.parse((await http(`${server.url}/healthz`)).body)).toEqual({ status: 'ok', model: 'config_1' });
  });
});

/** This machine's first non-loopback IPv4 address: requests to it come from beyond loopback. */
function outsideAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const outside = outsideAddress();

describe.skipIf(skipFor('the beyond-loopback serve test', outside === undefined ? 'this machine has no non-loopback IPv4 address' : undefined))('mnist-lr serve beyond loopback', () => {
  it('will not listen beyond loopback without a token', async () => {
    const r = await cli('serve', '--model', modelPath, '--host', '0.0.0.0', '--port', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error \[BAD_OPTION\]: --host 0\.0\.0\.0 lets other machines connect, so a token is required/);
  });

  it('asks for the token (Bearer or a login session) on every route but /healthz', async () => {
    const tokenFile = join(tmp, 'token');
    const token = 'f00d'.repeat(16);
    writeFileSync(tokenFile, `${token}\n`);
    const open = await serve('--model', modelPath, '--host', outside!, '--port', '0', '--token-file', tokenFile);
    try {
      const body = grayPng(28, 28, image(0));
      const post = (headers: Record<string, string>): Promise<Reply> => http(`${open.url}/predict`, { method: 'POST', headers: { 'content-type': 'image/png', ...headers }, body });
      expect((await http(`${open.url}/healthz`)).status).toBe(200);

      const anonymous = await post({});
      expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'UNAUTHORIZED']);
      const wrong = await post({ authorization: `Bearer ${token.slice(1)}x` });
      expect(wrong.status).toBe(401);
      const bearer = await post({ authorization: `Bearer ${token}` });
      expect(bearer.status).toBe(200);
      expect((await http(`${open.url}/draw.js`)).status).toBe(401);

      // A browser: the page is a login form, the right token opens a session.
      const form = await http(`${open.url}/`);
      expect(form.status).toBe(401);
      expect(form.body).toContain('<form method="post" action="/login">');
      const formPost = (t: string): Promise<Reply> => http(`${open.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${t}` });
      const refused = await formPost('guess');
      expect(refused.status).toBe(401);
      expect(refused.headers['set-cookie']).toBeUndefined();
      const accepted = await formPost(token);
      expect(accepted.status).toBe(303);
      const cookie = String(accepted.headers['set-cookie']).split(';')[0]!;
      expect(String(accepted.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
      expect(cookie).not.toContain(token);
      const page = await http(`${open.url}/`, { headers: { cookie } });
      expect(page.status).toBe(200);
      expect(page.body).toContain('<canvas id="pad"');
      expect(page.body).not.toContain(token);
      expect((await post({ cookie })).status).toBe(200);
      expect(open.stderr()).not.toContain(token);
    } finally {
      await open.stop();
    }
  });
});
