/**
 * The HTTP surface on a coordinator's own port, with real worker processes and real faults:
 * /status validated by its schema while waiting, training and finished; /metrics parsed as
 * Prometheus text, its counters equal to the coordinator's own counts after a SIGKILL, a NaN
 * result and a wrong token; beyond loopback, every route but /healthz and /readyz needs the token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { loadTrainingData, type TrainingData } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { statusSchema, type Status } from '@mnist-lr/watch/status';

import { startEvilPeer } from '../helpers/chaos.js';
import { originConfig, startProcessWorker, startThreadWorker, waitFor, type ProcessWorker } from '../helpers/cluster.js';
import { parsePrometheus, sample } from '../helpers/prometheus.js';

const config = originConfig('config_1', { num_epoches: 1 });
let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
});

const secret = (): string => `token-${Math.random().toString(36).slice(2)}`;

async function status(base: string, init?: RequestInit): Promise<Status> {
  const res = await fetch(new URL('/status', base), init);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return statusSchema.parse(await res.json());
}

/** A WebSocket upgrade with a wrong token: answered 401 and counted as refused. */
function wrongToken(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: 'Bearer not-the-token' } });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => {});
  });
}

describe('a coordinator with faults, watched over HTTP', () => {
  it('/status follows the run through waiting, training and finished; /metrics counts what the coordinator counted', async () => {
    const token = secret();
    let victim: ProcessWorker | undefined;
    let during: Status | undefined;
    let evil: ReturnType<typeof startEvilPeer> | undefined;
    const coordinator: Coordinator = await Coordinator.start({
      config,
      data,
      token,
      minWorkers: 2,
      workerWaitMs: 30_000,
      hooks: {
        onStep: async (info) => {
          if (info.epoch !== 0) return;
          if (info.step === 100) during = await status(coordinator.dashboardUrl);
          if (info.step === 200) victim!.child.kill('SIGKILL');
          if (info.step === 300) {
            // A peer that answers its first slice with NaN: evicted, its slice recomputed.
            evil = startEvilPeer(coordinator.url, token, data.fingerprint, 'nan', 'liar');
            await waitFor(() => coordinator.workers === 2, 20_000, 'the lying peer to join');
          }
        },
      },
    });
    const base = coordinator.dashboardUrl;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const workers: ProcessWorker[] = [];
    try {
      const run = coordinator.run();
      await waitFor(() => coordinator.monitor.reason?.startsWith('waiting for 2') === true, 10_000, 'the wait for workers');
      const waiting = await status(base);
      expect(waiting.state).toBe('waiting');
      expect(waiting.reason).toBe('waiting for 2 workers (0 joined)');
      // Waiting for its workers is ready: a Service must not hide the coordinator from them.
      const ready = await fetch(new URL('/readyz', base));
      expect([ready.status, await ready.text()]).toEqual([200, 'waiting: waiting for 2 workers (0 joined)\n']);
      expect(await wrongToken(coordinator.url)).toBe(401);

      workers.push(startProcessWorker(coordinator.url, token, ['--label', 'steady']), startProcessWorker(coordinator.url, token, ['--label', 'victim']));
      victim = workers[1];
      const state = await run;

      expect(during?.state).toBe('training');
      expect(during?.workers.filter((w) => w.state === 'connected').map((w) => w.label).sort()).toEqual(['steady', 'victim']);
      expect(during?.progress).toMatchObject({ epoch: 1, step: 100, steps: 600 });

      const done = await status(base);
      expect(done.state).toBe('finished');
      expect(done.epochs.map((m) => m.testAccuracy)).toEqual(state.history.map((m) => m.testAccuracy));
      expect(done.counters.leaves).toMatchObject({ CONNECTION_LOST: 1, BAD_RESULT: 1 });
      expect(done.counters.evictions).toEqual({ BAD_RESULT: 1 });
      expect(done.counters.refused).toEqual({ BAD_TOKEN: 1 });
      expect(done.workers.map((w) => [w.label, w.state, w.reason]).sort()).toEqual([
        ['liar', 'gone', 'BAD_RESULT'],
        ['steady', 'gone', 'RUN_COMPLETE'],
        ['victim', 'gone', 'CONNECTION_LOST'],
      ]);
      const steady = done.workers.find((w) => w.label === 'steady')!;
      expect(steady.slices).toBeGreaterThan(500);
      expect(steady.sliceMedianMs).not.toBeNull();
      expect(steady.sliceP95Ms!).toBeGreaterThanOrEqual(steady.sliceMedianMs!);
      // The worker process prints a line per epoch, counting what the coordinator counted.
      const steadyOutput = (await workers[0]!.done).output;
      expect(steadyOutput).toMatch(new RegExp(`epoch 1: ${steady.slices} slices done, median \\d+\\.\\d\\d ms each\n`));

      const families = parsePrometheus(await (await fetch(new URL('/metrics', base))).text());
      const reassignments = [...(families.get('mnist_lr_slice_reassignments_total')?.metrics ?? [])].reduce((n, m) => n + Number(m.value), 0);
      expect(reassignments).toBe(coordinator.reassigned);
      expect(reassignments).toBeGreaterThanOrEqual(2); // the killed worker's slice and the liar's
      expect(sample(families, 'mnist_lr_slice_reassignments_total', { reason: 'BAD_RESULT' })).toBe(1);
      expect(sample(families, 'mnist_lr_slice_backups_total')).toBe(coordinator.stats.backups);
      expect(sample(families, 'mnist_lr_worker_joins_total')).toBe(3);
      expect(sample(families, 'mnist_lr_worker_evictions_total', { reason: 'BAD_RESULT' })).toBe(1);
      expect(sample(families, 'mnist_lr_worker_leaves_total', { reason: 'CONNECTION_LOST' })).toBe(1);
      expect(sample(families, 'mnist_lr_connections_refused_total', { reason: 'BAD_TOKEN' })).toBe(1);
      expect(sample(families, 'mnist_lr_received_bytes_total')).toBe(coordinator.traffic.bytesIn);
      expect(sample(families, 'mnist_lr_sent_bytes_total')).toBe(coordinator.traffic.bytesOut);
      expect(sample(families, 'mnist_lr_steps_total')).toBe(600);
      expect(families.get('mnist_lr_step_seconds')?.metrics[0]?.count).toBe('599');
      expect(sample(families, 'mnist_lr_state', { state: 'finished' })).toBe(1);
      expect(sample(families, 'mnist_lr_workers')).toBe(0);
    } finally {
      evil?.terminate();
      for (const w of workers) w.child.kill('SIGKILL');
      await coordinator.close();
    }
  });
});

describe('the count of refusals', () => {
  it('is one: a peer that closes itself with a coded reason before its hello is counted alike by the coordinator, /status and /metrics', async () => {
    const token = secret();
    const coordinator = await Coordinator.start({ config, data, token });
    try {
      const base = coordinator.dashboardUrl;
      // Authenticated, then gone with DATASET_MISMATCH's code before saying hello.
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(coordinator.url, { headers: { authorization: `Bearer ${token}` } });
        ws.on('open', () => ws.close(4003, 'not my dataset'));
        ws.on('close', () => resolve());
        ws.on('error', reject);
      });
      expect(await wrongToken(coordinator.url)).toBe(401);
      await waitFor(() => Object.keys(coordinator.refused).length === 2, 10_000, 'both refusals to be counted');
      expect({ ...coordinator.refused }).toEqual({ DATASET_MISMATCH: 1, BAD_TOKEN: 1 });
      const shown = await status(base);
      expect(shown.counters.refused).toEqual({ ...coordinator.refused });
      expect(shown.counters.evictions).toEqual({});
      const families = parsePrometheus(await (await fetch(new URL('/metrics', base))).text());
      expect(sample(families, 'mnist_lr_connections_refused_total', { reason: 'DATASET_MISMATCH' })).toBe(1);
      expect(sample(families, 'mnist_lr_connections_refused_total', { reason: 'BAD_TOKEN' })).toBe(1);
      // The feed shows both, with their codes; neither was ever a worker.
      expect(coordinator.monitor.eventsAfter(0).filter((e) => e.kind === 'refuse').map((e) => e.reason).sort()).toEqual(['BAD_TOKEN', 'DATASET_MISMATCH']);
      expect(shown.workers).toEqual([]);
    } finally {
      await coordinator.close();
    }
  });
});

describe('a coordinator listening beyond loopback', () => {
  let coordinator: Coordinator | undefined;
  afterAll(async () => coordinator?.close());

  it('answers every route but the probes with 401 without the token and 200 with it, by header or login', async () => {
    const token = secret();
    let checked!: () => void;
    const checks = new Promise<void>((r) => (checked = r));
    let routes: () => Promise<void>;
    coordinator = await Coordinator.start({
      config,
      data,
      token,
      host: '0.0.0.0',
      minWorkers: 1,
      // Wrong tokens are tried on purpose here: do not slow their answers down.
      authLimits: { freeFailures: 1000, baseDelayMs: 250, maxDelayMs: 10_000, forgetAfterMs: 600_000, maxTracked: 10_000 },
      // The run is held at a step while the routes are tried.
      hooks: { onStep: async (info) => (info.epoch === 0 && info.step === 10 ? routes() : undefined) },
    });
    const base = `http://127.0.0.1:${coordinator.port}/`;
    routes = async () => {
      const paths = ['/', '/app.js', '/app.css', '/status', '/metrics', '/events', '/no-such-page'];
      const bearer = { authorization: `Bearer ${token}` };
      for (const path of paths) {
        const open = await fetch(new URL(path, base));
        expect(open.status, path).toBe(401);
        expect(await open.text()).not.toContain(token);
        expect((await fetch(new URL(path, base), { headers: { authorization: 'Bearer wrong' } })).status, path).toBe(401);
        const res = await fetch(new URL(path, base), { headers: bearer });
        expect(res.status, path).toBe(path === '/no-such-page' ? 404 : 200);
        if (path === '/events') await res.body?.cancel();
        else expect(await res.text(), path).not.toContain(token);
      }
      expect((await fetch(new URL('/healthz', base))).status).toBe(200);
      // The probes need no token (a kubelet has none) and tell readiness only.
      const ready = await fetch(new URL('/readyz', base));
      expect([ready.status, await ready.text()]).toEqual([200, 'ready\n']);

      // A browser gets the login form, which posts the token in the body.
      const form = await fetch(new URL('/status', base), { headers: { accept: 'text/html' } });
      expect(form.status).toBe(401);
      expect(await form.text()).toContain('<form method="post" action="/login">');
      const post = (t: string): Promise<Response> =>
        fetch(new URL('/login', base), { method: 'POST', body: new URLSearchParams({ token: t }), redirect: 'manual' });
      expect((await post('wrong')).status).toBe(401);
      const login = await post(token);
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^mnist_lr_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
      expect(cookie).not.toContain(token);
      const session = cookie.split(';')[0]!;
      expect((await fetch(new URL('/status', base), { headers: { cookie: session } })).status).toBe(200);
      expect((await fetch(new URL('/status', base), { headers: { cookie: 'mnist_lr_session=forged' } })).status).toBe(401);
      checked();
    };
    const worker = startThreadWorker(coordinator.url, token, 'only');
    await Promise.all([coordinator.run(), checks]);
    await worker.done;
  });
});
