/**
 * Admission: every TCP connection to the coordinator must authenticate (the upgrade request with
 * the token) and say hello within one deadline, counted from the moment it was accepted. Until
 * its upgrade it is *pending*, and pending (unauthenticated) connections are capped in total and
 * per address. After the upgrade, what is left of the deadline is the pool's wait for the hello,
 * which closes the WebSocket with HANDSHAKE_TIMEOUT.
 *
 * Each connection has its own timer. Node's own `headersTimeout` is checked only every
 * `connectionsCheckingInterval` (30 s by default), so a slow upgrade request used to be cut after
 * about 29 s instead of 10, and a client that sent nothing at all was never cut. A timer per
 * socket costs a few hundred bytes; the caps bound how many there can be.
 *
 * Past a cap, a new connection is refused at once: a plain-text connection gets an HTTP 503 with
 * the CONNECTION_LIMIT reason header (a worker prints it and retries later), a TLS one is closed.
 */
import type { Socket } from 'node:net';
import { REASON_HEADER } from '@mnist-lr/core/protocol';

export interface AdmissionLimits {
  /** Milliseconds from TCP accept to an accepted hello (the upgrade with its token included). Default 10000. */
  helloDeadlineMs: number;
  /** Pending connections (accepted, not yet upgraded with the token) at most, from all addresses. Default 1024. */
  maxPending: number;
  /** Pending connections at most from one remote address. Default 64. */
  maxPendingPerAddress: number;
}

export const DEFAULT_ADMISSION: AdmissionLimits = { helloDeadlineMs: 10_000, maxPending: 1024, maxPendingPerAddress: 64 };

/** Why admission closed or refused a connection. */
export type AdmissionRefusal = 'CONNECTION_LIMIT' | 'HANDSHAKE_TIMEOUT';

interface Pending {
  socket: Socket;
  address: string;
  timer: NodeJS.Timeout;
  /** performance.now() at accept. */
  openedAt: number;
}

/** The key of a connection: its remote address and port, as the coordinator names peers. */
export function peerKey(address: string | undefined, port: number | undefined): string {
  return `${address ?? '?'}:${port ?? '?'}`;
}

export class Admission {
  private readonly pending = new Map<string, Pending>();
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly limits: AdmissionLimits,
    /** Told of every refusal or expiry: the peer (address:port) and why. */
    private readonly onRefused: (peer: string, reason: AdmissionRefusal, detail: string) => void,
    /** A TLS server: refusals cannot be answered in plain HTTP. */
    private readonly tls: boolean,
  ) {}

  /** Pending connections now. */
  get size(): number {
    return this.pending.size;
  }

  /** A TCP connection was accepted: start its deadline, or refuse it at once past a cap. */
  open(socket: Socket): void {
    const address = socket.remoteAddress;
    if (address === undefined) return void socket.destroy(); // already gone
    const key = peerKey(address, socket.remotePort);
    const fromHere = this.perAddress.get(address) ?? 0;
    if (this.pending.size >= this.limits.maxPending || fromHere >= this.limits.maxPendingPerAddress) {
      const which = fromHere >= this.limits.maxPendingPerAddress ? `${fromHere} from ${address}` : `${this.pending.size} in all`;
      this.refuse(socket);
      this.onRefused(key, 'CONNECTION_LIMIT', `too many connections without a hello (${which})`);
      return;
    }
    const entry: Pending = { socket, address, openedAt: performance.now(), timer: setTimeout(() => this.expire(key), this.limits.helloDeadlineMs) };
    entry.timer.unref();
    this.pending.set(key, entry);
    this.perAddress.set(address, fromHere + 1);
    socket.once('close', () => {
      if (this.pending.get(key)?.socket === socket) this.release(key);
    });
  }

  /**
   * `key` authenticated (its upgrade succeeded): it is pending no more. Returns the milliseconds
   * left of its deadline, for the hello (at least 1).
   */
  upgraded(key: string): number {
    const entry = this.pending.get(key);
    const left = entry ? this.limits.helloDeadlineMs - (performance.now() - entry.openedAt) : this.limits.helloDeadlineMs;
    this.release(key);
    return Math.max(1, Math.round(left));
  }

  /**
   * `key` is no longer pending: it sent a plain HTTP request, which the HTTP server's own limits
   * govern from then on, or it authenticated.
   */
  release(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(key);
    const n = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (n === 0) this.perAddress.delete(entry.address);
    else this.perAddress.set(entry.address, n);
  }

  /** Ends every pending connection (shutdown). */
  closeAll(): void {
    for (const [key, entry] of this.pending) {
      this.release(key);
      entry.socket.destroy();
    }
  }

  private expire(key: string): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    this.release(key);
    entry.socket.destroy();
    this.onRefused(key, 'HANDSHAKE_TIMEOUT', `no authenticated upgrade within ${this.limits.helloDeadlineMs / 1000} s of connecting`);
  }

  private refuse(socket: Socket): void {
    if (this.tls) return void socket.destroy();
    socket.on('error', () => socket.destroy());
    socket.end(`HTTP/1.1 503 Service Unavailable\r\n${REASON_HEADER}: CONNECTION_LIMIT\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    // The answer is written; a client that never reads it or closes is cut.
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
