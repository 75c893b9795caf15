/**
 * The join link's door, over real sockets without a browser (test/browsers/ has the browsers):
 * an upgrade that carries another origin is refused before its credentials are looked at; the
 * link's secret admits a worker as a subprotocol value, and the coordinator never echoes it; a
 * wrong secret, or any secret with `join: false`, is BAD_JOIN_SECRET; the join routes answer
 * nothing without the secret, and with it the dataset whose inflated bytes hash to the run's
 * fingerprint. A join-link worker that lies is evicted under --verify and refused again under any
 * label, since a page names itself as it likes.
 */
import { gunzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { kernelFingerprint, loadTrainingData, type TrainingData } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { decodeCoordinatorMessage, encodeMessage, JOIN_HEADER, joinProtocols, PROTOCOL_VERSION, REASON_HEADER, type ResultMessage } from '@mnist-lr/core/protocol';
import { createHash } from 'node:crypto';

import { originConfig, waitFor } from '../helpers/cluster.js';

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
});

interface Knock {
  status: number;
  reason: string | undefined;
  protocol: string | undefined;
}

/** An upgrade with these headers and subprotocols: the HTTP status (101 when it opened), its reason header and chosen subprotocol. */
function knock(url: string, headers: Record<string, string>, protocols: string[] = []): Promise<Knock> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.on('unexpected-response', (_req, res) => {
      const reason = res.headers[REASON_HEADER];
      resolve({ status: res.statusCode ?? 0, reason: typeof reason === 'string' ? reason : undefined, protocol: undefined });
      ws.terminate();
    });
    ws.on('upgrade', (res) => {
      const p = res.headers['sec-websocket-protocol'];
      resolve({ status: 101, reason: undefined, protocol: typeof p === 'string' ? p : undefined });
      ws.terminate();
    });
    ws.on('error', () => {});
  });
}

describe('the join link', () => {
  let coordinator: Coordinator;
  let secret: string;
  const token = 'the-run-token';
  beforeAll(async () => {
    // Wrong credentials are tried here on purpose: none of them is slowed down (auth.test.ts checks that).
    const authLimits = { freeFailures: 1000, baseDelayMs: 1, maxDelayMs: 1, forgetAfterMs: 60_000, maxTracked: 100 };
    coordinator = await Coordinator.start({ config: originConfig('config_1', { num_epoches: 1 }), data, token, workerWaitMs: 600_000, authLimits });
    secret = new URL(coordinator.joinUrl!).hash.slice(1);
  });
  afterAll(() => coordinator.close());

  it('is printed as http://HOST:PORT/join/#SECRET, a new secret at every start, never the token', async () => {
    expect(coordinator.joinUrl).toBe(`http://127.0.0.1:${coordinator.port}/join/#${secret}`);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(coordinator.joinUrl).not.toContain(token);
    const other = await Coordinator.start({ config: originConfig('config_1', { num_epoches: 1 }), data, token });
    try {
      expect(new URL(other.joinUrl!).hash.slice(1)).not.toBe(secret);
    } finally {
      await other.close();
    }
  });

  it('refuses an upgrade from another origin with BAD_ORIGIN, whatever its credentials', async () => {
    const before = coordinator.refused.BAD_ORIGIN ?? 0;
    const own = `http://127.0.0.1:${coordinator.port}`;
    expect(await knock(coordinator.url, { origin: 'http://evil.example', authorization: `Bearer ${token}` })).toEqual({ status: 403, reason: 'BAD_ORIGIN', protocol: undefined });
    expect(await knock(coordinator.url, { origin: 'null' }, joinProtocols(secret))).toMatchObject({ status: 403, reason: 'BAD_ORIGIN' });
    expect(await knock(coordinator.url, { origin: `http://127.0.0.1:${coordinator.port + 1}` }, joinProtocols(secret))).toMatchObject({ status: 403, reason: 'BAD_ORIGIN' });
    expect(coordinator.refused.BAD_ORIGIN).toBe(before + 3);
    // The page's own origin, and workers that send none, are let through to the credentials.
    expect(await knock(coordinator.url, { origin: own }, joinProtocols(secret))).toEqual({ status: 101, reason: undefined, protocol: 'mnist-lr' });
    expect(await knock(coordinator.url, { origin: own.toUpperCase().replace('HTTP', 'http') }, joinProtocols(secret))).toMatchObject({ status: 101 });
    expect(await knock(coordinator.url, { authorization: `Bearer ${token}` })).toEqual({ status: 101, reason: undefined, protocol: undefined });
  });

  it('admits with its secret as a subprotocol value, never echoed; a wrong one is BAD_JOIN_SECRET', async () => {
    const ok = await knock(coordinator.url, {}, joinProtocols(secret));
    expect(ok).toEqual({ status: 101, reason: undefined, protocol: 'mnist-lr' });
    expect(await knock(coordinator.url, {}, joinProtocols('B'.repeat(43)))).toEqual({ status: 401, reason: 'BAD_JOIN_SECRET', protocol: undefined });
    // The secret is not the token, and the token is not a join secret.
    expect(await knock(coordinator.url, { authorization: `Bearer ${secret}` })).toMatchObject({ status: 401, reason: 'BAD_TOKEN' });
    expect(await knock(coordinator.url, {}, joinProtocols(token.replace(/-/g, '_').padEnd(22, '_')))).toMatchObject({ status: 401, reason: 'BAD_JOIN_SECRET' });
    expect(coordinator.refused.BAD_JOIN_SECRET).toBeGreaterThanOrEqual(2);
  });

  it("answers the join routes only with the secret; the dataset inflates to the run's fingerprint", async () => {
    const base = coordinator.dashboardUrl;
    for (const path of ['join/run', 'join/dataset']) {
      for (const headers of [{}, { [JOIN_HEADER]: 'C'.repeat(43) }, { authorization: `Bearer ${token}` }]) {
        const r = await fetch(new URL(path, base), { headers });
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.headers.get(REASON_HEADER)).toBe('BAD_JOIN_SECRET');
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
      }
    }
    const run = await fetch(new URL('join/run', base), { headers: { [JOIN_HEADER]: secret } });
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({ protocol: PROTOCOL_VERSION, dataset: data.fingerprint, kernel: kernelFingerprint(), epochs: 1, steps: 600, workers: 0, worker: null });
    const dataset = await fetch(new URL('join/dataset', base), { headers: { [JOIN_HEADER]: secret } });
    expect(dataset.status).toBe(200);
    expect(dataset.headers.get('content-type')).toBe('application/gzip');
    const gzip = Buffer.from(await dataset.arrayBuffer());
    expect(Number(dataset.headers.get('content-length'))).toBe(gzip.length);
    const stream = gunzipSync(gzip);
    expect(stream.length).toBe(Number(dataset.headers.get('x-mnist-lr-dataset-bytes')));
    expect(createHash('sha256').update(stream).digest('hex')).toBe(data.fingerprint);
    // Four files of MNIST: 60,000 and 10,000 images and labels, each after its length.
    expect(stream.length).toBe(4 * 8 + (16 + 60_000 * 784) + (8 + 60_000) + (16 + 10_000 * 784) + (8 + 10_000));
    // The page itself needs no secret: it holds none, and no data.
    const page = await fetch(new URL('join/', base));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(await page.text()).not.toContain(secret);
  });

  it('is not served with join: false', async () => {
    const closed = await Coordinator.start({ config: originConfig('config_1', { num_epoches: 1 }), data, token, join: false });
    try {
      expect(closed.joinUrl).toBeNull();
      expect(await knock(closed.url, {}, joinProtocols(secret))).toMatchObject({ status: 401, reason: 'BAD_JOIN_SECRET' });
      expect((await fetch(new URL('join/run', closed.dashboardUrl), { headers: { [JOIN_HEADER]: secret } })).status).toBe(404);
      expect((await fetch(new URL('join-link', closed.dashboardUrl))).status).toBe(404);
    } finally {
      await closed.close();
    }
  });
});

describe('a join-link worker that lies', () => {
  it('is evicted under --verify 1 and refused again under another label', async () => {
    const stop = new AbortController();
    const coordinator = await Coordinator.start({ config: originConfig('config_1', { num_epoches: 1 }), data, token: 'the-run-token', verify: 1, workerWaitMs: 600_000, signal: stop.signal });
    const secret = new URL(coordinator.joinUrl!).hash.slice(1);
    const running = coordinator.run().catch(() => {});
    try {
      const first = liar(coordinator.url, secret, data.fingerprint, 'browser tab 1');
      expect(await first).toMatchObject({ welcomed: true, code: 4022, reason: expect.stringContaining("differed from the coordinator's own computation") });
      expect(coordinator.evicted.RESULT_MISMATCH).toBe(1);
      // The same page (the same address) under a new name: refused at its hello.
      const again = await liar(coordinator.url, secret, data.fingerprint, 'a brand new tab');
      expect(again.welcomed).toBe(false);
      expect(again.reason).toContain('refused for the rest of the run');
      await waitFor(() => (coordinator.refused.RESULT_MISMATCH ?? 0) === 1, 10_000, 'the refusal to be counted');
    } finally {
      stop.abort();
      await running;
      await coordinator.close();
    }
  });
});

/** A worker admitted by the join secret that answers its first task with sums of zeros (wrong, but well-formed). */
function liar(url: string, secret: string, dataset: string, label: string): Promise<{ welcomed: boolean; code: number; reason: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, joinProtocols(secret), { perMessageDeflate: false });
    let welcomed = false;
    ws.on('open', () => ws.send(encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, dataset, kernel: kernelFingerprint(), worker: label, engine: 'Firefox 153' })));
    ws.on('message', (raw: Buffer) => {
      const m = decodeCoordinatorMessage(raw);
      if (m.type === 'welcome') welcomed = true;
      if (m.type !== 'task') return;
      const sums: ResultMessage['sums'] = { gW: new Float64Array(7840), gb: new Float64Array(10), loss: 0, correct: 0, count: m.indices.length };
      ws.send(encodeMessage({ type: 'result', task: m.task, sums, rows: null }));
    });
    ws.on('error', () => {});
    ws.on('close', (code: number, reason: Buffer) => resolve({ welcomed, code, reason: reason.toString() }));
  });
}
