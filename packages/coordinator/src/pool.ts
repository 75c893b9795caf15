import { KERNEL_ID } from '@mnist-lr/core';
import {
  DecodeBuffers,
  decodeWorkerMessage,
  encodeMessage,
  PROTOCOL_VERSION,
  ProtocolError,
  REASONS,
  closeText,
  reasonOfClose,
  type CoordinatorMessage,
  type Reason,
  type ResultMessage,
} from '@mnist-lr/core/protocol';
import type { PeerConnection, PeerConnectionEvents } from './transport/connection.js';

import { WorkerRecord } from './observe/worker-record.js';

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
  /** A connection must complete its hello within this. Default 5000 ms. */
  handshakeTimeoutMs: number;
  /** Ping period; a worker silent for two periods is dropped. Default 5000 ms. */
  heartbeatMs: number;
  log: (line: string) => void;
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

  /** A new connection from `address`: returns where its events go. */
  accept(connection: PeerConnection, address: string): PeerConnectionEvents {
    const peer = new Peer(this.nextId++, connection, address, this.traffic);
    this.peers.add(peer);
    const handshake = setTimeout(() => this.drop(peer, 'HANDSHAKE_TIMEOUT'), this.options.handshakeTimeoutMs);
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
          if (m.kernel !== KERNEL_ID) return this.drop(peer, 'KERNEL_MISMATCH', `worker kernel ${m.kernel}, coordinator ${KERNEL_ID}`);
          peer.label = m.worker;
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
        if (!peer.gone) this.markGone(peer, reasonOfClose(code), reason || `connection closed (${code})`, false);
      },
    };
  }

  /** Closes a peer's connection with a coded reason and forgets it now. */
  drop(peer: Peer, reason: Reason, detail?: string): void {
    if (peer.gone) return;
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
    else if (reason) this.options.log(`refused ${peer.address}: [${reason}] ${detail}`);
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
