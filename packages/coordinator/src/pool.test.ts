/**
 * The pool without sockets: connections in memory, fed encoded frames (and text, and junk), as
 * ws's own parser is tested. What the pool sends back is decoded, and what it closes with is read
 * against the protocol's table of reasons.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KERNEL_ID } from '@mnist-lr/core/engine';
import { decodeCoordinatorMessage, encodeMessage, PROTOCOL_VERSION, REASONS, type HelloMessage, type Reason, type WorkerMessage } from '@mnist-lr/core/protocol';
import { Pool, type PoolOptions } from './pool.js';
import type { PeerConnection, PeerConnectionEvents } from './transport/connection.js';

const DATASET = 'a'.repeat(64);
const HELLO: HelloMessage = { type: 'hello', protocol: PROTOCOL_VERSION, dataset: DATASET, kernel: KERNEL_ID, worker: 'w' };

/** A connection held in memory: what the pool sent, how it closed it, how often it pinged. */
class MemoryConnection implements PeerConnection {
  readonly sent: Uint8Array[] = [];
  closed: { code: number; text: string } | undefined;
  pings = 0;
  events!: PeerConnectionEvents;

  send(frame: Uint8Array): void {
    this.sent.push(frame);
  }

  close(code: number, text: string): void {
    this.closed ??= { code, text };
  }

  ping(): void {
    this.pings++;
  }

  /** The worker sends a message. */
  say(m: WorkerMessage): void {
    this.events.frame(Buffer.from(encodeMessage(m)), true);
  }
}

const pools: Pool[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.closeAll('COORDINATOR_SHUTDOWN');
});

/** A pool and a record of what it told its owner. */
function setup(options: Partial<PoolOptions> = {}) {
  const told = { ready: [] as number[], lost: [] as Array<{ id: number; reason: Reason | undefined; evicted: boolean }>, log: [] as string[], refused: [] as Array<{ address: string; reason: Reason; detail: string }> };
  const pool = new Pool({
    dataset: DATASET,
    kernel: KERNEL_ID,
    handshakeTimeoutMs: 60_000,
    heartbeatMs: 60_000,
    log: (line) => told.log.push(line),
    onReady: (peer) => told.ready.push(peer.id),
    onLost: (peer, reason, _detail, evicted) => told.lost.push({ id: peer.id, reason, evicted }),
    onResult: () => {},
    onRefused: (address, reason, detail) => told.refused.push({ address, reason, detail }),
    onEvicted: () => {},
    ...options,
  });
  pools.push(pool);
  const connect = (): MemoryConnection => {
    const c = new MemoryConnection();
    c.events = pool.accept(c, '127.0.0.1:5555');
    return c;
  };
  return { pool, told, connect };
}

/** Resolves once `predicate` holds; fails the test after `ms` (a bound, never a measured time). */
async function until(predicate: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Pool', () => {
  it('welcomes a worker whose hello matches, and tells its owner', () => {
    const { pool, told, connect } = setup();
    const c = connect();
    c.say(HELLO);
    expect(c.closed).toBeUndefined();
    expect(c.sent.map((f) => decodeCoordinatorMessage(f))).toEqual([{ type: 'welcome', protocol: PROTOCOL_VERSION, workerId: 1 }]);
    expect(told.ready).toEqual([1]);
    expect(pool.ready().map((p) => p.label)).toEqual(['w']);
    expect(told.log).toEqual(['worker 1 (w) joined from 127.0.0.1:5555']);
  });

  it.each([
    ['PROTOCOL_MISMATCH', { protocol: PROTOCOL_VERSION + 1 }, `worker speaks protocol ${PROTOCOL_VERSION + 1}`],
    ['DATASET_MISMATCH', { dataset: 'b'.repeat(64) }, 'worker dataset bbbbbbbbbbbb…, coordinator aaaaaaaaaaaa…'],
    ['KERNEL_MISMATCH', { kernel: 'other-kernel' }, 'worker kernel other-kernel'],
  ] as const)('refuses a hello with %s, closing with its code and saying why', (reason, change, detail) => {
    const { pool, told, connect } = setup();
    const c = connect();
    c.say({ ...HELLO, ...change });
    expect(c.closed?.code).toBe(REASONS[reason].close);
    expect(c.closed?.text).toContain(detail);
    expect(pool.ready()).toEqual([]);
    expect(told.ready).toEqual([]);
    expect(told.lost).toEqual([{ id: 1, reason, evicted: true }]);
    // Refusals go to the owner (its Refusals counts and logs them), not to the pool's log.
    expect(told.log).toEqual([]);
    expect(told.refused).toEqual([{ address: '127.0.0.1:5555', reason, detail: expect.stringContaining(detail) }]);
  });

  it.each([
    ['a text frame', (c: MemoryConnection) => c.events.frame(Buffer.from('hello'), false), 'MALFORMED_MESSAGE'],
    ['bytes that are no message', (c: MemoryConnection) => c.events.frame(Buffer.from([0xc1, 0x00, 0xff]), true), 'MALFORMED_MESSAGE'],
    ['a result before hello', (c: MemoryConnection) => c.say({ type: 'result', task: 1, sums: { gW: new Float64Array(7840), gb: new Float64Array(10), loss: 0, correct: 0, count: 1 }, rows: null }), 'UNEXPECTED_MESSAGE'],
    ['a second hello', (c: MemoryConnection) => (c.say(HELLO), c.say(HELLO)), 'UNEXPECTED_MESSAGE'],
  ] as const)('closes a connection that sends %s with %s, and only that one', (_what, send, reason) => {
    const { pool, told, connect } = setup();
    const good = connect();
    good.say({ ...HELLO, worker: 'good' });
    const bad = connect();
    send(bad);
    expect(bad.closed?.code).toBe(REASONS[reason].close);
    expect(told.lost).toEqual([{ id: 2, reason, evicted: true }]);
    expect(good.closed).toBeUndefined();
    expect(pool.ready().map((p) => p.label)).toEqual(['good']);
  });

  it('forgets a worker whose connection closed, telling its owner it was not evicted', () => {
    const { pool, told, connect } = setup();
    const c = connect();
    c.say(HELLO);
    c.events.closed(1006, '');
    expect(pool.ready()).toEqual([]);
    expect(told.lost).toEqual([{ id: 1, reason: undefined, evicted: false }]);
    expect(told.log.at(-1)).toBe('worker 1 (w) left: connection closed (1006)');
    // Frames after the end are ignored.
    c.say(HELLO);
    expect(told.ready).toEqual([1]);
  });

  it('closes a connection that does not say hello in time with HANDSHAKE_TIMEOUT', async () => {
    const { told, connect } = setup({ handshakeTimeoutMs: 20 });
    const c = connect();
    await until(() => c.closed !== undefined);
    expect(c.closed?.code).toBe(REASONS.HANDSHAKE_TIMEOUT.close);
    expect(told.lost).toEqual([{ id: 1, reason: 'HANDSHAKE_TIMEOUT', evicted: true }]);
  });

  it('pings each worker every period and drops one silent for two periods with HEARTBEAT_TIMEOUT', async () => {
    const { pool, told, connect } = setup({ heartbeatMs: 20 });
    const answering = connect();
    answering.say({ ...HELLO, worker: 'answering' });
    const silent = connect();
    silent.say({ ...HELLO, worker: 'silent' });
    const originalPing = answering.ping.bind(answering);
    answering.ping = () => {
      originalPing();
      answering.events.pong();
    };
    await until(() => silent.closed !== undefined);
    expect(silent.closed?.code).toBe(REASONS.HEARTBEAT_TIMEOUT.close);
    expect(told.lost).toEqual([{ id: 2, reason: 'HEARTBEAT_TIMEOUT', evicted: true }]);
    await until(() => answering.pings >= 5);
    expect(answering.closed).toBeUndefined();
    expect(pool.ready().map((p) => p.label)).toEqual(['answering']);
  });

  it('closes every connection with the reason given at the end of a run', () => {
    const { pool, connect } = setup();
    const a = connect();
    a.say(HELLO);
    const b = connect();
    pool.closeAll('RUN_COMPLETE');
    expect([a.closed?.code, b.closed?.code]).toEqual([REASONS.RUN_COMPLETE.close, REASONS.RUN_COMPLETE.close]);
    expect(pool.ready()).toEqual([]);
  });
});
