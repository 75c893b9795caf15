import {
  DecodeBuffers,
  decodeWorkerMessage,
  encodeMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  REASONS,
  closeText,
  inert,
  LABEL_MAX,
  reasonOfClose,
  type CoordinatorMessage,
  type Reason,
  type ResultMessage,
} from '@mnist-lr/core/protocol';
import { WorkerRecord } from '@mnist-lr/watch';

import type { PeerConnection, PeerConnectionEvents } from './transport/connection.js';

/** Frames and bytes through the pool's connections, both ways (WebSocket payloads). */
export interface Traffic {
  framesOut: number;
  bytesOut: number;
  framesIn: number;
  bytesIn: number;
}

/** A connected worker. */
export class Peer {
  /** Weights version this worker holds (-1: none yet). */
  version = -1;
  /** Tasks sent and not yet answered. */
  readonly pending = new Set<number>();
  ready = false;
  gone = false;
  label = '';
  alive = true;
  /** What the run's monitor shows of this connection, updated in place. */
  readonly record: WorkerRecord;

  constructor(
    readonly id: number,
    readonly connection: PeerConnection,
    readonly address: string,
    private readonly traffic: Traffic,
  ) {
    this.record = new WorkerRecord(id, address);
  }

  send(m: CoordinatorMessage): void {
    if (this.gone) return;
    const frame = encodeMessage(m);
    this.traffic.framesOut++;
    this.traffic.bytesOut += frame.byteLength;
    this.record.framesOut++;
    this.record.bytesOut += frame.byteLength;
    this.connection.send(frame);
  }

  toString(): string {
    return `worker ${this.id} (${this.label || this.address})`;
  }
}

export interface PoolOptions {
  dataset: string;
  /** The coordinator's kernel fingerprint (kernelFingerprint of core); a worker's must equal it. */
  kernel: string;
  /** A connection must complete its hello within this of connecting. Default 10000 ms. */
  handshakeTimeoutMs: number;
  /** Ping period; a worker silent for two periods is dropped. Default 5000 ms. */
  heartbeatMs: number;
  log: (line: string) => void;
  /** A connection refused at its handshake (mismatch, timeout, bad first message): count and log it. */
  onRefused: (address: string, reason: Reason, detail: string) => void;
  /** A worker that had joined was closed by the coordinator with `reason`. */
  onEvicted: (peer: Peer, reason: Reason) => void;
  onReady: (peer: Peer) => void;
  /** A connection ended; `evicted`: this side closed it, for `reason`. */
  onLost: (peer: Peer, reason: Reason | undefined, detail: string, evicted: boolean) => void;
  /** A validated result. Its sums live in storage the pool reuses: read them during the call. */
  onResult: (peer: Peer, m: ResultMessage) => void;
}

/**
 * Admits workers (handshake: protocol version, dataset fingerprint, kernel), watches them
 * (heartbeat), and hands their results on. Dropping a peer is immediate and idempotent: its
 * slices can be given to others at once, without waiting for a dead TCP connection to close.
 */
export class Pool {
  private readonly peers = new Set<Peer>();
  /** Workers refused for the rest of the run (see ban()). */
  private readonly banned = new Set<string>();
  readonly traffic: Traffic = { framesOut: 0, bytesOut: 0, framesIn: 0, bytesIn: 0 };
  private nextId = 1;
  private readonly heartbeat: NodeJS.Timeout;
  /** Where results are decoded: every result is consumed before the next frame is read. */
  private readonly buffers = new DecodeBuffers();

  constructor(private readonly options: PoolOptions) {
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Workers that completed the handshake and are still connected. */
  ready(): Peer[] {
    return [...this.peers].filter((p) => p.ready && !p.gone);
  }

  /**
   * A new authenticated connection from `address`: returns where its events go. It must say hello
   * within `helloWithinMs` (default handshakeTimeoutMs).
   */
  accept(connection: PeerConnection, address: string, helloWithinMs = this.options.handshakeTimeoutMs): PeerConnectionEvents {
    const peer = new Peer(this.nextId++, connection, address, this.traffic);
    this.peers.add(peer);
    const handshake = setTimeout(() => this.drop(peer, 'HANDSHAKE_TIMEOUT', `no hello within ${this.options.handshakeTimeoutMs / 1000} s of connecting`), helloWithinMs);
    return {
      pong: () => {
        peer.alive = true;
        peer.record.lastHeard = Date.now();
      },
      frame: (data, isBinary) => {
        if (peer.gone) return;
        peer.alive = true;
        this.traffic.framesIn++;
        this.traffic.bytesIn += data.length;
        peer.record.framesIn++;
        peer.record.bytesIn += data.length;
        peer.record.lastHeard = Date.now();
        if (!isBinary) return this.drop(peer, 'MALFORMED_MESSAGE', 'text frame');
        let m;
        try {
          m = decodeWorkerMessage(data, this.buffers);
        } catch (e) {
          if (e instanceof ProtocolError) return this.drop(peer, e.reason, e.message);
          throw e;
        }
        if (m.type === 'hello') {
          clearTimeout(handshake);
          if (peer.ready) return this.drop(peer, 'UNEXPECTED_MESSAGE', 'second hello');
          if (m.protocol !== PROTOCOL_VERSION) return this.drop(peer, 'PROTOCOL_MISMATCH', `worker speaks protocol ${m.protocol}, coordinator ${PROTOCOL_VERSION}`);
          if (m.dataset !== this.options.dataset) return this.drop(peer, 'DATASET_MISMATCH', `worker dataset ${m.dataset.slice(0, 12)}…, coordinator ${this.options.dataset.slice(0, 12)}…`);
          if (m.kernel !== this.options.kernel) return this.drop(peer, 'KERNEL_MISMATCH', `worker kernel ${m.kernel}, coordinator ${this.options.kernel}`);
          peer.label = inert(m.worker, LABEL_MAX);
          if (this.banned.has(banKey(address, peer.label))) {
            return this.drop(peer, 'RESULT_MISMATCH', 'refused for the rest of the run: a worker of this address and label returned wrong sums');
          }
          peer.ready = true;
          peer.send({ type: 'welcome', protocol: PROTOCOL_VERSION, workerId: peer.id });
          this.options.log(`${peer} joined from ${address}`);
          this.options.onReady(peer);
          return;
        }
        if (!peer.ready) return this.drop(peer, 'UNEXPECTED_MESSAGE', `${m.type} before hello`);
        this.options.onResult(peer, m);
      },
      closed: (code, reason) => {
        clearTimeout(handshake);
        if (!peer.gone) this.markGone(peer, reasonOfClose(code), inert(reason) || `connection closed (${code})`, false);
      },
    };
  }

  /**
   * Refuses this worker for the rest of the run, by its address and label: the same worker
   * reconnecting is refused at its hello. (Other workers on the same host, with their own labels,
   * are not: local worker threads all share 127.0.0.1.)
   */
  ban(peer: Peer): void {
    this.banned.add(banKey(peer.address, peer.label));
  }

  /** Closes a peer's connection with a coded reason and forgets it now. */
  drop(peer: Peer, reason: Reason, detail?: string): void {
    if (peer.gone) return;
    if (peer.ready) this.options.onEvicted(peer, reason);
    const text = detail ?? REASONS[reason].text;
    peer.connection.close(REASONS[reason].close, closeText(text));
    this.markGone(peer, reason, text, true);
  }

  /** Closes every connection with `reason` (end of run or shutdown). */
  closeAll(reason: Reason): void {
    clearInterval(this.heartbeat);
    for (const peer of this.peers) {
      if (peer.gone) continue;
      peer.gone = true;
      peer.connection.close(REASONS[reason].close, closeText(REASONS[reason].text));
    }
    this.peers.clear();
  }

  private markGone(peer: Peer, reason: Reason | undefined, detail: string, evicted: boolean): void {
    peer.gone = true;
    this.peers.delete(peer);
    if (peer.ready) this.options.log(`${peer} left: ${reason ? `[${reason}] ` : ''}${detail}`);
    else if (reason) this.options.onRefused(peer.address, reason, detail);
    this.options.onLost(peer, reason, detail, evicted);
  }

  private beat(): void {
    for (const peer of this.peers) {
      if (!peer.alive) {
        this.drop(peer, 'HEARTBEAT_TIMEOUT');
        continue;
      }
      peer.alive = false;
      peer.connection.ping();
    }
  }
}

/** A worker's identity for a ban: its host (without the port) and its label. */
function banKey(address: string, label: string): string {
  return `${address.slice(0, address.lastIndexOf(':'))}\n${label}`;
}
