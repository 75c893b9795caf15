/**
 * Helpers for chaos tests: a seeded source of fault timing, a fleet of worker processes whose
 * every exit is accounted for, a TCP proxy that cuts connections, and an authenticated but
 * malicious peer speaking the real protocol.
 *
 * Fault timing is drawn from core's seeded Rng (never Math.random), so a failing run is replayed
 * by setting MNIST_LR_CHAOS_SEED to the seed it printed.
 */
import { createRequire } from 'node:module';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { kernelFingerprint, type Weights } from '@mnist-lr/core';
import { Rng } from '@mnist-lr/core/engine';
import { decodeCoordinatorMessage, encodeMessage, PROTOCOL_VERSION, type ResultMessage } from '@mnist-lr/core/protocol';
import { startProcessWorker, type ProcessWorker } from './cluster.js';

// ---------------------------------------------------------------------------------------------
// Seeded fault timing.

/** The chaos seed: MNIST_LR_CHAOS_SEED if set, else one derived from the clock (printed by the test). */
export function chaosSeed(): number {
  const raw = process.env.MNIST_LR_CHAOS_SEED;
  if (raw !== undefined && raw.trim() !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new Error(`MNIST_LR_CHAOS_SEED must be an integer in [0, 2^32), got ${JSON.stringify(raw)}`);
    return n;
  }
  return (Date.now() % 0x1_0000_0000) >>> 0;
}

/** Seeded dice: one independent stream per test case, so cases do not depend on each other's draws. */
export class Dice {
  private readonly rng: Rng;

  constructor(
    readonly seed: number,
    readonly stream: number,
  ) {
    this.rng = new Rng(seed, 10_000 + stream);
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + this.rng.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.rng.next() / 4_294_967_296 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.rng.below(items.length)]!;
  }

  /** `k` increasing integers in [lo, hi], one in each of k equal windows, at least `gap` apart. */
  spread(k: number, lo: number, hi: number, gap: number): number[] {
    const width = (hi - lo + 1) / k;
    if (width <= gap) throw new Error(`cannot spread ${k} values over [${lo}, ${hi}] with gap ${gap}`);
    const out: number[] = [];
    for (let i = 0; i < k; i++) {
      const from = Math.ceil(lo + i * width);
      const to = Math.floor(lo + (i + 1) * width) - gap;
      out.push(this.int(from, Math.max(from, to)));
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `promise`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Bytes that differ between the float64 representations of two weight sets (0: bit-identical). */
export function differingBytes(a: Weights, b: Weights): number {
  let n = 0;
  for (const [x, y] of [
    [a.W, b.W],
    [a.b, b.b],
  ] as const) {
    const bx = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    const by = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
    n += Math.abs(bx.length - by.length);
    for (let i = 0; i < Math.min(bx.length, by.length); i++) if (bx[i] !== by[i]) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Worker processes, with every exit accounted for.

export interface Tracked {
  label: string;
  proc: ProcessWorker;
  /** Signals this test sent that end a process (SIGKILL): an exit by one of them is expected. */
  caused: Set<NodeJS.Signals>;
  /** Set when the process exited. */
  exit?: { code: number | null; signal: NodeJS.Signals | null; output: string };
  /** Killed in clean-up because it was still running (a worker that should have ended). */
  leftover: boolean;
  stopped: boolean;
}

/**
 * Every `mnist-lr worker` process a test starts. A process may end with code 0 (the run
 * completed) or by a signal this test sent; anything else is an unexpected crash.
 */
export class Fleet {
  readonly all: Tracked[] = [];

  start(url: string, token: string, label: string): Tracked {
    const proc = startProcessWorker(url, token, ['--label', label]);
    const t: Tracked = { label, proc, caused: new Set(), leftover: false, stopped: false };
    proc.child.on('error', () => {}); // 'exit' still reports how it ended
    void proc.done.then((e) => (t.exit = e));
    this.all.push(t);
    return t;
  }

  signal(t: Tracked, sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
    if (t.exit) return;
    if (sig === 'SIGKILL') t.caused.add('SIGKILL');
    if (sig === 'SIGSTOP') t.stopped = true;
    if (sig === 'SIGCONT') t.stopped = false;
    t.proc.child.kill(sig);
  }

  running(among: readonly Tracked[] = this.all): Tracked[] {
    return among.filter((t) => !t.exit && !t.caused.has('SIGKILL'));
  }

  /** Waits up to `ms` for the given processes to exit; any still running is resumed, killed and marked leftover. */
  async reap(among: readonly Tracked[], ms: number): Promise<void> {
    const until = Date.now() + ms;
    for (const t of among) {
      if (t.exit) continue;
      try {
        await withTimeout(t.proc.done, Math.max(1, until - Date.now()), `${t.label} to exit`);
      } catch {
        t.leftover = true;
        t.caused.add('SIGKILL');
        t.proc.child.kill('SIGCONT');
        t.proc.child.kill('SIGKILL');
        await withTimeout(t.proc.done, 5000, `${t.label} to die`).catch(() => {});
      }
    }
  }

  /** Processes that ended in a way this test did not cause (or never ended). */
  unexpected(among: readonly Tracked[] = this.all): Tracked[] {
    return among.filter((t) => t.leftover || (t.exit !== undefined && !(t.exit.code === 0 || (t.exit.signal !== null && t.caused.has(t.exit.signal)))));
  }

  /** Slices a finished worker reported ("N slices computed"), or undefined. */
  static slices(t: Tracked): number | undefined {
    const m = /(\d+) slices computed/.exec(t.exit?.output ?? t.proc.output());
    return m ? Number(m[1]) : undefined;
  }

  describe(t: Tracked): string {
    const e = t.exit;
    return `${t.label}: ${e ? `code ${e.code} signal ${e.signal}` : 'running'}${t.leftover ? ' (leftover)' : ''}\n${(e?.output ?? t.proc.output()).split('\n').slice(-8).join('\n')}`;
  }

  killAll(): void {
    for (const t of this.all) {
      if (t.exit) continue;
      t.caused.add('SIGKILL');
      t.proc.child.kill('SIGCONT');
      t.proc.child.kill('SIGKILL');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A TCP proxy that cuts connections.

interface Pair {
  id: number;
  client: Socket;
  upstream: Socket;
  /** Upstream connected: the pair carries traffic. */
  linked: boolean;
}

/**
 * A plain TCP relay on 127.0.0.1 in front of the coordinator. `cut()` destroys both sides of a
 * connection at once, as a broken network path would (no close frame, no FIN on time).
 */
export class CuttingProxy {
  private readonly pairs = new Map<number, Pair>();
  private nextId = 1;
  /** Connections accepted so far. */
  accepted = 0;
  /** Connections cut by cut(). */
  cuts = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<CuttingProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new CuttingProxy(server, (server.address() as AddressInfo).port);
    server.on('connection', (client) => proxy.relay(client, targetPort));
    return proxy;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Connections currently relayed, oldest first. */
  live(): number {
    return [...this.pairs.values()].filter((p) => p.linked).length;
  }

  /** Cuts one live connection chosen by the dice; false when none is live. */
  cut(dice: Dice): boolean {
    const live = [...this.pairs.values()].filter((p) => p.linked);
    if (live.length === 0) return false;
    const p = dice.pick(live);
    this.cuts++;
    this.drop(p);
    return true;
  }

  /**
   * Stops relaying what the coordinator sends on every live connection (what clients send still
   * goes through): a task sent meanwhile never arrives, as if the worker were stalled on it.
   */
  hold(): void {
    for (const p of this.pairs.values()) {
      p.upstream.unpipe(p.client);
      p.upstream.pause();
    }
  }

  async close(): Promise<void> {
    for (const p of this.pairs.values()) this.drop(p);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket, targetPort: number): void {
    this.accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { id: this.nextId++, client, upstream, linked: false };
    this.pairs.set(pair.id, pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.on('connect', () => (pair.linked = true));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => this.drop(pair);
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  }

  private drop(p: Pair): void {
    if (!this.pairs.delete(p.id)) return;
    p.linked = false;
    p.client.destroy();
    p.upstream.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// An authenticated peer that misbehaves.

/**
 * nan: answers its first task with NaN in gW. wrong-count: sums over one sample more than its
 * slice. foreign-task: a result for a task id it was not given. silent: never answers (its
 * socket still answers pings).
 */
export type EvilMode = 'nan' | 'wrong-count' | 'foreign-task' | 'silent';

export interface EvilPeer {
  mode: EvilMode;
  /** Tasks received. */
  tasks: number;
  /** Resolves with the workerId of the welcome. */
  welcomed: Promise<number>;
  /** Resolves with how the coordinator closed the connection. */
  closed: Promise<{ code: number; reason: string }>;
  terminate(): void;
}

const W_LENGTH = 784 * 10;

export function startEvilPeer(url: string, token: string, dataset: string, mode: EvilMode, label: string): EvilPeer {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  let onWelcome!: (id: number) => void;
  let onClose!: (c: { code: number; reason: string }) => void;
  const peer: EvilPeer = {
    mode,
    tasks: 0,
    welcomed: new Promise((r) => (onWelcome = r)),
    closed: new Promise((r) => (onClose = r)),
    terminate: () => ws.terminate(),
  };
  ws.binaryType = 'nodebuffer';
  ws.on('open', () => ws.send(encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, dataset, kernel: kernelFingerprint(), worker: label }), { binary: true }));
  ws.on('message', (raw: Buffer) => {
    const m = decodeCoordinatorMessage(raw);
    if (m.type === 'welcome') return onWelcome(m.workerId);
    if (m.type !== 'task') return;
    peer.tasks++;
    if (peer.tasks > 1) return; // only the first task matters: the answer to it ends the connection
    const n = m.indices.length;
    const sums = (count: number): ResultMessage['sums'] => ({ gW: new Float64Array(W_LENGTH), gb: new Float64Array(10), loss: 0, correct: 0, count });
    let answer: ResultMessage | undefined;
    switch (mode) {
      case 'nan': {
        const s = sums(n);
        s.gW[m.task % W_LENGTH] = Number.NaN;
        answer = { type: 'result', task: m.task, sums: s, rows: null };
        break;
      }
      case 'wrong-count':
        answer = { type: 'result', task: m.task, sums: sums(n + 1), rows: null };
        break;
      case 'foreign-task':
        // The task just before ours was given to another worker (ids are sequential), or is done.
        answer = { type: 'result', task: m.task - 1, sums: sums(n), rows: null };
        break;
      case 'silent':
        break;
    }
    if (answer) ws.send(encodeMessage(answer), { binary: true });
  });
  ws.on('error', () => {});
  ws.on('close', (code: number, reason: Buffer) => onClose({ code, reason: reason.toString() }));
  return peer;
}

// ---------------------------------------------------------------------------------------------
// A worker of an earlier build.

// msgpackr is a dependency of core, not of the workspace root.
const { Packr } = createRequire(fileURLToPath(new URL('../../packages/core/package.json', import.meta.url)))('msgpackr') as {
  Packr: new (o: object) => { pack(v: unknown): Uint8Array; unpack(b: Uint8Array): unknown };
};
const legacyPackr = new Packr({ useRecords: false, moreTypes: false });

export interface LegacyPeer {
  /** Whether the coordinator welcomed it. */
  welcomed: boolean;
  /** Whether the connection has ended. */
  ended: boolean;
  /** Why the connection ended: who closed it, the code and the reason. */
  closed: Promise<{ code: number; reason: string; by: 'coordinator' | 'worker' }>;
  terminate(): void;
}

/**
 * The handshake and frame reading of a worker built at commit c97e702 (protocol 1 as released
 * then): coordinator messages are welcome, task (weights inline as W/b, or null) and bye; any
 * other message type, or a task without its W key, closes the connection with MALFORMED_MESSAGE
 * (4005), as that build's decoder did. It computes nothing: the case only needs the handshake.
 */
export function startLegacyWorker(url: string, token: string, dataset: string, label: string): LegacyPeer {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  let onClose!: (c: { code: number; reason: string; by: 'coordinator' | 'worker' }) => void;
  let closedBy: 'coordinator' | 'worker' = 'coordinator';
  const peer: LegacyPeer = { welcomed: false, ended: false, closed: new Promise((r) => (onClose = r)), terminate: () => ws.terminate() };
  ws.binaryType = 'nodebuffer';
  ws.on('open', () => ws.send(legacyPackr.pack({ type: 'hello', protocol: 1, dataset, kernel: kernelFingerprint(), worker: label }), { binary: true }));
  ws.on('message', (raw: Buffer) => {
    const o = legacyPackr.unpack(raw) as Record<string, unknown>;
    const malformed = (why: string): void => {
      closedBy = 'worker';
      ws.close(4005, why);
    };
    if (o.type === 'welcome') peer.welcomed = true;
    else if (o.type === 'task') {
      if (!Object.hasOwn(o, 'W')) malformed('task: missing "W"');
    } else if (o.type !== 'bye') malformed(`unknown coordinator message type ${JSON.stringify(o.type)}`);
  });
  ws.on('error', () => {});
  ws.on('close', (code: number, reason: Buffer) => {
    peer.ended = true;
    onClose({ code, reason: reason.toString(), by: closedBy });
  });
  return peer;
}
