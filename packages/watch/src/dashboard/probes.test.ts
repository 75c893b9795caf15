/**
 * The probes as a kubelet sees them, over a real socket: a dashboard that is not open (a
 * coordinator beyond loopback) answers /healthz and /readyz without the token, telling readiness
 * and nothing else, in every state; an open one (loopback) adds the state and its reason.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { parseConfig } from '@mnist-lr/core/engine';

import { RunMonitor } from '../monitor/run-monitor.js';
import { RUN_STATES } from '../monitor/status-schema.js';
import { createDashboard } from './dashboard.js';

const TOKEN = 'probe-test-token-0123456789';
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function monitor(): RunMonitor {
  const config = parseConfig({ num_epoches: 1, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'probes.test');
  return new RunMonitor({ name: 'config_1', path: 'configs/config_1.json', config, dataset: 'd'.repeat(64), kernel: 'k', engine: 'coordinator', stepsPerEpoch: 600 });
}

async function serve(m: RunMonitor, open: boolean): Promise<(path: string, init?: RequestInit) => Promise<[number, string]>> {
  const dashboard = createDashboard({ monitor: m, token: TOKEN, open, secure: false });
  const server = createServer((req, res) => dashboard.handle(req, res));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return async (path, init) => {
    const res = await fetch(base + path, init);
    return [res.status, (await res.text()).trim()];
  };
}

describe('/healthz and /readyz', () => {
  it('beyond loopback: answered without the token, readiness only, the same with a wrong or right token', async () => {
    const m = monitor();
    const get = await serve(m, false);
    const expected: Record<(typeof RUN_STATES)[number], [number, string]> = {
      waiting: [200, 'ready'],
      training: [200, 'ready'],
      finished: [503, 'not ready'],
      failed: [503, 'not ready'],
    };
    for (const state of RUN_STATES) {
      m.setState(state, `secret detail of ${state}`);
      const credentials: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${TOKEN}` }];
      for (const headers of credentials) {
        expect(await get('/readyz', { headers }), state).toEqual(expected[state]);
        expect(await get('/healthz', { headers }), state).toEqual([200, 'ok']);
      }
      expect((await get('/readyz', { method: 'HEAD' }))[0]).toBe(expected[state][0]);
    }
    // Everything else still needs the token.
    expect((await get('/status'))[0]).toBe(401);
    expect((await get('/readyz', { method: 'POST' }))[0]).toBe(405);
  });

  it('on loopback: the state and its reason; a coordinator waiting for workers is ready', async () => {
    const m = monitor();
    const get = await serve(m, true);
    m.setState('waiting', 'waiting for 3 workers (1 joined)');
    expect(await get('/readyz')).toEqual([200, 'waiting: waiting for 3 workers (1 joined)']);
    m.setState('training', null);
    expect(await get('/readyz')).toEqual([200, 'training']);
    m.setState('failed', '[INTERRUPTED] interrupted');
    expect(await get('/readyz')).toEqual([503, 'failed: [INTERRUPTED] interrupted']);
    expect(await get('/healthz')).toEqual([200, 'ok']);
  });
});
