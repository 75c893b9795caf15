/**
 * Connection hygiene: every connection must authenticate and say hello within one deadline,
 * enforced by a timer of its own; connections that have not authenticated are capped in total and
 * per address, and refused at once past a cap; the log of refusals cannot be flooded.
 *
 * Silent clients are raw TCP sockets on 127.0.0.1; "other addresses" are other loopback addresses
 * (127.0.0.2, …), which Linux routes to the same interface.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadTrainingData, train, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { REASON_HEADER } from '@mnist-lr/core/protocol';
import { firstDifference, originConfig, startThreadWorker, waitFor } from '../helpers/cluster.js';

const config = originConfig('config_1', { num_epoches: 1 });
let data: TrainingData;
let reference: Weights;

beforeAll(async () => {
  data = loadTrainingData();
  reference = (await train({ config, data })).weights;
});

interface Silent {
  socket: Socket;
  openedAt: number;
  /** performance.now() when the server closed it; undefined while open. */
  closedAt: number | undefined;
  /** Bytes the server sent before closing. */
  received: string;
}

/** A TCP client that connects from `from` and sends nothing (or what `speak` writes). */
function silent(port: number, from = '127.0.0.1'): Promise<Silent> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from });
    const s: Silent = { socket, openedAt: 0, closedAt: undefined, received: '' };
    socket.on('data', (d: Buffer) => (s.received += d.toString()));
    socket.on('close', () => (s.closedAt = performance.now()));
    socket.on('error', () => {});
    socket.once('connect', () => {
      s.openedAt = performance.now();
      resolve(s);
    });
    socket.once('error', reject);
  });
}

/** Lines a thinned log keeps for `n` events, as the README says: the first 8, then the 16th, 32nd, … */
function keptLines(n: number): number {
  let kept = 0;
  for (let k = 1; k <= n; k++) if (k <= 8 || (k & (k - 1)) === 0) kept++;
  return kept;
}

/** An upgrade with the token from `from`: 101 when it opens, else the HTTP status and reason header. */
function knock(url: string, token: string, from = '127.0.0.1'): Promise<{ status: number; reason?: string; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, localAddress: from });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, reason: res.headers[REASON_HEADER] as string | undefined });
      ws.terminate();
    });
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('error', () => {});
  });
}

describe('the per-connection deadline (default 10 s)', () => {
  it('closes 2,000 silent TCP connections within it, while two workers train to the in-process bytes', async () => {
    const token = 'flood';
    const log: string[] = [];
    // Caps high enough to hold all 2,000 (50 from each of 40 addresses): this test is about the
    // deadline; the caps have their own test below.
    const coordinator = await Coordinator.start({ config, data, token, minWorkers: 2, connectionLimits: { maxPending: 4096 }, log: (l) => log.push(l) });
    const workers = [startThreadWorker(coordinator.url, token, 'w1'), startThreadWorker(coordinator.url, token, 'w2')];
    const flood: Silent[] = [];
    try {
      const running = coordinator.run();
      for (let a = 0; a < 40; a++) {
        flood.push(...(await Promise.all(Array.from({ length: 50 }, () => silent(coordinator.port, `127.0.0.${a + 2}`)))));
      }
      const state = await running;
      expect(firstDifference(state.weights, reference)).toBe(-1);
      // Bounded wait: the documented deadline, plus room for a loaded machine.
      await waitFor(() => flood.every((s) => s.closedAt !== undefined), 25_000, 'every silent connection to be closed');
      const lasted = flood.map((s) => s.closedAt! - s.openedAt);
      expect(Math.min(...lasted)).toBeGreaterThan(9_900);
      // Closed by their own timers, not by Node's 30-second sweep.
      expect(Math.max(...lasted)).toBeLessThan(20_000);
      expect(coordinator.refused.HANDSHAKE_TIMEOUT).toBe(2000);
      expect(log.filter((l) => l.includes('[HANDSHAKE_TIMEOUT]'))).toHaveLength(keptLines(2000));
      for (const w of workers) expect((await w.done).reason).toBe('RUN_COMPLETE');
    } finally {
      for (const s of flood) s.socket.destroy();
      await Promise.all(workers.map((w) => w.worker.terminate()));
      await coordinator.close();
    }
  });

  it('cuts a slow upgrade request at the deadline, not at Node’s 30-second check', async () => {
    const coordinator = await Coordinator.start({ config, data, token: 'slow' });
    const s = await silent(coordinator.port);
    s.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    // One more header line every half second: the request is never complete.
    const drip = setInterval(() => s.socket.writable && s.socket.write(`X-Drip-${Math.floor(performance.now())}: 1\r\n`), 500);
    try {
      await waitFor(() => s.closedAt !== undefined, 25_000, 'the slow request to be cut');
      const lasted = s.closedAt! - s.openedAt;
      expect(lasted).toBeGreaterThan(9_900);
      expect(lasted).toBeLessThan(20_000);
      expect(coordinator.refused.HANDSHAKE_TIMEOUT).toBe(1);
    } finally {
      clearInterval(drip);
      s.socket.destroy();
      await coordinator.close();
    }
  });

  it('closes authenticated connections that never say hello with HANDSHAKE_TIMEOUT, and thins their log lines', async () => {
    const log: string[] = [];
    const coordinator = await Coordinator.start({ config, data, token: 'mute', handshakeTimeoutMs: 1500, connectionLimits: { maxPendingPerAddress: 200 }, log: (l) => log.push(l) });
    const closes: number[] = [];
    try {
      const knocks = await Promise.all(Array.from({ length: 100 }, () => knock(coordinator.url, 'mute')));
      for (const k of knocks) {
        expect(k.status).toBe(101);
        k.ws!.on('close', (code) => closes.push(code));
      }
      await waitFor(() => closes.length === 100, 20_000, 'every mute connection to be closed');
      expect(new Set(closes)).toEqual(new Set([4007]));
      expect(coordinator.refused.HANDSHAKE_TIMEOUT).toBe(100);
      // 100 refusals, 11 lines: the first 8, the 16th, 32nd and 64th.
      expect(log.filter((l) => l.includes('[HANDSHAKE_TIMEOUT]'))).toHaveLength(11);
    } finally {
      await coordinator.close();
    }
  });
});

describe('the caps on connections that have not authenticated', () => {
  it('refuse at once past the per-address and the total cap, with CONNECTION_LIMIT, and free a place when one closes', async () => {
    const log: string[] = [];
    const coordinator = await Coordinator.start({
      config,
      data,
      token: 'caps',
      // A long deadline: anything closed in this test was refused, not timed out.
      handshakeTimeoutMs: 120_000,
      connectionLimits: { maxPending: 6, maxPendingPerAddress: 4 },
      log: (l) => log.push(l),
    });
    const held: Silent[] = [];
    try {
      for (let i = 0; i < 4; i++) held.push(await silent(coordinator.port, '127.0.0.1'));
      // The fifth from 127.0.0.1: answered 503 with the reason, and closed, at once.
      const fifth = await silent(coordinator.port, '127.0.0.1');
      await waitFor(() => fifth.closedAt !== undefined, 10_000, 'the fifth connection to be refused');
      expect(fifth.received).toMatch(new RegExp(`^HTTP/1.1 503 Service Unavailable\\r\\n${REASON_HEADER}: CONNECTION_LIMIT\\r\\n`, 'i'));
      // A worker with the right token from the same address is refused the same way.
      expect(await knock(coordinator.url, 'caps', '127.0.0.1')).toMatchObject({ status: 503, reason: 'CONNECTION_LIMIT' });

      // Two more from another address fill the total cap of 6; then any address is refused.
      for (let i = 0; i < 2; i++) held.push(await silent(coordinator.port, '127.0.0.2'));
      const refusedElsewhere = await Promise.all(Array.from({ length: 40 }, () => silent(coordinator.port, '127.0.0.3')));
      await waitFor(() => refusedElsewhere.every((s) => s.closedAt !== undefined), 10_000, 'the connections past the total cap to be refused');
      for (const s of refusedElsewhere) expect(s.received).toContain('CONNECTION_LIMIT');
      expect(held.every((s) => s.closedAt === undefined)).toBe(true);

      // 42 refusals in all, logged thinned.
      expect(coordinator.refused.CONNECTION_LIMIT).toBe(42);
      expect(log.filter((l) => l.includes('[CONNECTION_LIMIT]'))).toHaveLength(keptLines(42));

      // One closes: its place is free again, and a worker gets in.
      held[0]!.socket.destroy();
      await waitFor(() => held[0]!.closedAt !== undefined, 5_000, 'the close');
      let entered: { status: number; ws?: WebSocket } = { status: 0 };
      // The server learns of the close a moment after the client: a few tries.
      for (let i = 0; i < 20 && entered.status !== 101; i++) {
        entered = await knock(coordinator.url, 'caps', '127.0.0.1');
        if (entered.status !== 101) await new Promise((r) => setTimeout(r, 50));
      }
      expect(entered.status).toBe(101);
      entered.ws?.terminate();
    } finally {
      for (const s of held) s.socket.destroy();
      await coordinator.close();
    }
  });
});
