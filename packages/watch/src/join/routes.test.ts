/**
 * The join routes beside a dashboard that needs the run's token (a coordinator beyond loopback):
 * the join secret opens the join routes and nothing else, the token opens the dashboard (and the
 * join link on it) but not the join routes, and the join page itself is open to anyone. Its
 * answers carry the join page's policy, which lets its worker compile WebAssembly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { kernelFingerprint, loadConfig, loadTrainingData } from '@mnist-lr/core';
import { JOIN_HEADER, REASON_HEADER } from '@mnist-lr/core/protocol';

import { createDashboard } from '../dashboard/dashboard.js';
import { listenHttp, type Listening } from '../http/listen.js';
import { RunMonitor } from '../monitor/run-monitor.js';
import { joinSummarySchema } from './join-schema.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const TOKEN = 'the-run-token';
const SECRET = 'S'.repeat(43);

let server: Listening;
beforeAll(async () => {
  const data = loadTrainingData();
  const { config } = loadConfig(`${ROOT}configs/config_1.json`);
  const monitor = new RunMonitor({ name: 'config_1', path: 'configs/config_1.json', config, dataset: data.fingerprint, kernel: kernelFingerprint(), engine: 'coordinator', trainImages: data.train.count });
  const dashboard = createDashboard({ monitor, token: TOKEN, open: false, join: { secret: SECRET, link: () => `http://192.0.2.1:7070/join/#${SECRET}` }, log: () => {} });
  server = await listenHttp((req, res) => dashboard.handle(req, res));
});
afterAll(() => server?.close());

const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(new URL(path, server.url), { headers, redirect: 'manual' });

describe('beside a dashboard that needs the token', () => {
  it('the join secret opens the join routes and nothing else', async () => {
    const withSecret = { [JOIN_HEADER]: SECRET };
    const run = await get('/join/run', withSecret);
    expect(run.status).toBe(200);
    expect(joinSummarySchema.parse(await run.json())).toMatchObject({ run: 'config_1', state: 'waiting', workers: 0, medianSamplesPerSecond: null, worker: null });
    for (const path of ['/', '/status', '/metrics', '/events', '/join-link']) {
      expect((await get(path, { ...withSecret, accept: 'application/json' })).status, path).toBe(401);
    }
  });

  it('the token opens the dashboard and the join link, not the join routes', async () => {
    const withToken = { authorization: `Bearer ${TOKEN}` };
    expect((await get('/status', withToken)).status).toBe(200);
    expect(await (await get('/join-link', withToken)).json()).toEqual({ url: `http://192.0.2.1:7070/join/#${SECRET}`, reachable: true });
    for (const path of ['/join/run', '/join/dataset']) {
      const r = await get(path, withToken);
      expect(r.status, path).toBe(401);
      expect(r.headers.get(REASON_HEADER)).toBe('BAD_JOIN_SECRET');
    }
  });

  it('the page is open to anyone, under the join page policy; it only reads', async () => {
    const redirect = await get('/join');
    expect([redirect.status, redirect.headers.get('location')]).toEqual([308, '/join/']);
    for (const path of ['/join/', '/join/join.js', '/join/worker.js', '/join/join.css']) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect((await get('/join/nothing')).status).toBe(404);
    expect((await fetch(new URL('/join/run', server.url), { method: 'POST', headers: { [JOIN_HEADER]: SECRET } })).status).toBe(405);
  });
});
