/**
 * The HTTP surface of an in-process run (core's train() in this thread, as `train --workers 0
 * --dashboard` does): /status validated by its schema while waiting, training and finished;
 * /metrics as Prometheus text whose counts match the monitor's; /readyz; the page's headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { kernelFingerprint, loadConfig, loadTrainingData, train, type TrainingData } from '@mnist-lr/core/engine';

import { parsePrometheus, sample } from '../../../../test/helpers/prometheus.js';
import { RunMonitor } from '../monitor/run-monitor.js';
import { statusSchema } from '../monitor/status-schema.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createDashboard } from './dashboard.js';
import { metricsRegistry, scrape } from './metrics.js';
import { serveDashboard, type DashboardServer } from './serve.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData({});
});

describe('dashboard of an in-process run', () => {
  let server: DashboardServer | undefined;
  afterAll(async () => server?.close());

  it('serves /status in every state, /readyz, /metrics and the page', async () => {
    const { config: base } = loadConfig(`${ROOT}configs/config_1.json`);
    const config = { ...base, num_epoches: 2 };
    const monitor = new RunMonitor({ name: 'config_1', path: 'configs/config_1.json', config, dataset: data.fingerprint, kernel: kernelFingerprint(), engine: 'in-process', trainImages: data.train.count }, { sampleMs: 20 });
    server = await serveDashboard({ monitor, pushIntervalMs: 50 });
    const get = (path: string): Promise<Response> => fetch(new URL(path, server!.url));
    const status = async (): Promise<ReturnType<typeof statusSchema.parse>> => statusSchema.parse(await (await get('/status')).json());

    const waiting = await status();
    expect(waiting.state).toBe('waiting');
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/healthz')).status).toBe(200);

    const run = train({ config, data, hooks: monitor.hooks({}, { yieldMs: 10 }) });
    let during = await status();
    while (during.state !== 'training' && monitor.state !== 'finished') during = await status();
    expect(during.state).toBe('training');
    const ready = await get('/readyz');
    expect([ready.status, (await ready.text()).trim()]).toEqual([200, 'training']);
    const result = await run;
    monitor.finished({ model: 'models/config_1.model.json' }, null);

    const done = await status();
    expect(done.state).toBe('finished');
    expect(done.epochs.map((m) => m.testAccuracy)).toEqual(result.history.map((m) => m.testAccuracy));
    expect(done.progress).toMatchObject({ epoch: 2, epochs: 2 });
    const finished = await get('/readyz');
    expect([finished.status, await finished.text()]).toEqual([503, 'finished: all epochs done\n']);

    const metrics = await get('/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(await metrics.text());
    expect(sample(families, 'mnist_lr_steps_total')).toBe(2 * 600);
    expect(sample(families, 'mnist_lr_epochs_done')).toBe(2);
    expect(sample(families, 'mnist_lr_state', { state: 'finished' })).toBe(1);
    expect(sample(families, 'mnist_lr_test_accuracy')).toBe(result.history[1]!.testAccuracy);
    // Each epoch's first step is not timed (it would include the evaluation before it).
    expect(families.get('mnist_lr_step_seconds')?.metrics[0]?.count).toBe(String(2 * 600 - 2));
    expect(families.has('mnist_lr_process_cpu_seconds_total')).toBe(true);

    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    expect((await get('/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(new URL('/status', server.url), { method: 'POST' })).status).toBe(405);
  });
});

describe('a scrape', () => {
  it('leaves out the values not known yet, such as the event loop\'s lag before it was sampled', async () => {
    const { config } = loadConfig(`${ROOT}configs/config_1.json`);
    const monitor = new RunMonitor({ name: 'config_1', path: 'configs/config_1.json', config, dataset: data.fingerprint, kernel: kernelFingerprint(), engine: 'in-process', trainImages: data.train.count });
    const registry = metricsRegistry(monitor);
    // Read at once, before the event loop was sampled: prom-client writes the lag as "Nan".
    const [raw, text] = await Promise.all([registry.metrics(), scrape(registry)]);
    expect(raw).toMatch(/^mnist_lr_nodejs_eventloop_lag_mean_seconds Nan$/m);
    expect(text).not.toMatch(/ Nan$/m);
    const families = parsePrometheus(text);
    expect(sample(families, 'mnist_lr_steps_total')).toBe(0);
    expect(families.has('mnist_lr_process_cpu_seconds_total')).toBe(true);
  });
});

describe('a handler mounted on the dashboard', () => {
  it('answers GET and POST under its prefix, behind the dashboard\'s token when it is not open', async () => {
    const { config } = loadConfig(`${ROOT}configs/config_1.json`);
    const monitor = new RunMonitor({ name: 'config_1', path: 'configs/config_1.json', config, dataset: data.fingerprint, kernel: kernelFingerprint(), engine: 'in-process', trainImages: data.train.count });
    const dashboard = createDashboard({ monitor, token: 'secret', open: false, secure: false });
    dashboard.mount('/draw/', (req, res) => res.end(`${req.method} ${req.url}`));
    monitor.link('draw page', '/draw/');
    const server = createServer((req, res) => dashboard.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const bearer = { authorization: 'Bearer secret' };
      expect((await fetch(`${base}/draw/`)).status).toBe(401);
      expect((await fetch(`${base}/draw/predict`, { method: 'POST' })).status).toBe(401);
      expect(await (await fetch(`${base}/draw/`, { headers: bearer })).text()).toBe('GET /');
      expect(await (await fetch(`${base}/draw/predict?x=1`, { method: 'POST', headers: bearer })).text()).toBe('POST /predict?x=1');
      expect((await fetch(`${base}/other/`, { method: 'POST', headers: bearer })).status).toBe(405);
      const status = statusSchema.parse(await (await fetch(`${base}/status`, { headers: bearer })).json());
      expect(status.links).toEqual([{ label: 'draw page', href: '/draw/' }]);
    } finally {
      dashboard.close();
      server.close();
      server.closeAllConnections();
    }
  });
});
