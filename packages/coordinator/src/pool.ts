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
import { jsRowMover, type RowMover, type SharedRegion, type Weights } from '@mnist-lr/core/engine';
import type { ThreadSlot } from '@mnist-lr/core/protocol';
import { WorkerRecord } from '@mnist-lr/watch';

import { SharedPlane } from './transport/shared-plane.js';

import type { PeerConnection, PeerConnectionEvents } from './transport/connection.js';
import type { Admitted } from './transport/server.js';

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
  /** The shared-memory plane this worker computes through (a thread of this process), or null: WebSocket. */
  plane: SharedPlane<Peer> | null = null;

  /** Whether its tasks go through shared memory (see SchedulerPeer.shared). */
  get shared(): boolean {
    return this.plane !== null;
  }
  /** What the run's monitor shows of this connection, updated in place. */
  readonly record: WorkerRecord;

  constructor(
    readonly id: number,
    readonly connection: PeerConnection,
    readonly address: string,
    private readonly traffic: Traffic,
    /** How it was admitted: the run's token, or a join link's secret (a browser tab). */
    readonly via: Admitted = 'token',
  ) {
    this.record = new WorkerRecord(id, address);
  }

  send(m: CoordinatorMessage): void {
    if (this.gone) return;
    if (m.type === 'task' && this.plane !== null) {
      // Through its shared-memory slot: the indices are written there, the weights are on the board.
      this.record.framesOut++;
      this.record.bytesOut += m.indices.byteLength;
      this.plane.send(this, m);
      return;
    }
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
  /**
   * A validated result. Its sums live in storage the pool reuses: read them during the call.
   * `packed`: a shared-memory result, whose sums list only its rows, packed (core's SlotResult).
   */
  onResult: (peer: Peer, m: ResultMessage, packed: boolean, ms?: number) => void;
  /** For a shared-memory plane: a region of the kernels' shared memory per call (see SharedPlaneOptions.region). */
  region?: () => SharedRegion | null;
  /** For a shared-memory plane: how this thread moves rows. */
  mover?: RowMover;
  /** A task a worker could not compute because its weights version had gone (a late task). */
  onStale?: (peer: Peer, task: number) => void;
  /** Sample indices a task may carry (the batch size): the capacity of shared-memory slots. Default 60000. */
  batchSize?: number;
  /** Worker threads that may spin between tasks: cores − 1. Default 1. */
  spinners?: number;
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

  /** The shared-memory data plane of this process's worker threads, made with the first slot. */
  private plane: SharedPlane<Peer> | null = null;

  constructor(private readonly options: PoolOptions) {
    this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  /**
   * A shared-memory slot for one worker thread of this process, to start it with: once it joins
   * (over WebSocket, showing the slot's proof in its hello), its tasks and results go through
   * shared memory.
   */
  threadSlot(): ThreadSlot {
    this.plane ??= new SharedPlane<Peer>({
      capacity: this.options.batchSize ?? 60_000,
      spinners: this.options.spinners ?? 1,
      region: this.options.region ?? (() => null),
      mover: this.options.mover ?? jsRowMover,
      onResult: (peer, r, ms) => {
        if (peer.gone) return;
        peer.alive = true;
        peer.record.framesIn++;
        peer.record.bytesIn += 8 * (r.rows === null ? r.sums.gW.length : r.rows.length * 10) + 2 * (r.rows?.length ?? 0);
        peer.record.lastHeard = Date.now();
        this.options.onResult(peer, { type: 'result', task: r.task, sums: r.sums, rows: r.rows }, true, ms);
      },
      onStale: (peer, task) => {
        if (!peer.gone) this.options.onStale?.(peer, task);
      },
      onBroken: (peer, detail) => this.drop(peer, 'BAD_RESULT', detail),
    });
    return this.plane.newSlot();
  }

  /** Puts the weights of a new version where the threads of the shared-memory plane take them. */
  publish(weights: Weights, version: number, changed: Uint16Array | null, changedCount: number, since: number): void {
    this.plane?.publish(weights, version, changed, changedCount, since);
  }

  /** Polls the shared-memory plane from this thread until `done()` or `ms` passed (see SharedPlane.spin). */
  spin(done: () => boolean, ms: number): void {
    this.plane?.spin(done, ms);
  }

  /** Takes the answers the shared-memory plane holds, without waiting. */
  poll(): void {
    this.plane?.poll();
  }

  /** Keeps polling the shared-memory plane from the event loop while tasks are in flight there. */
  watch(): void {
    this.plane?.watch();
  }

  /** Workers that completed the handshake and are still connected. */
  ready(): Peer[] {
    return [...this.peers].filter((p) => p.ready && !p.gone);
  }

  /**
   * A new authenticated connection from `address`: returns where its events go. It must say hello
   * within `helloWithinMs` (default handshakeTimeoutMs).
   */
  accept(connection: PeerConnection, address: string, helloWithinMs = this.options.handshakeTimeoutMs, via: Admitted = 'token'): PeerConnectionEvents {
    const peer = new Peer(this.nextId++, connection, address, this.traffic, via);
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
          peer.record.engine = m.engine ?? null;
          if (this.banned.has(banKey(peer))) {
            return this.drop(peer, 'RESULT_MISMATCH', 'refused for the rest of the run: a worker of this address and label returned wrong sums');
          }
          peer.ready = true;
          // A thread of this process that holds one of its slots computes through shared memory.
          const shared = m.slot !== undefined && this.plane !== null && this.plane.bind(peer, m.slot);
          if (shared) {
            peer.plane = this.plane;
            peer.record.transport = 'shared memory';
          }
          peer.send({ type: 'welcome', protocol: PROTOCOL_VERSION, workerId: peer.id, ...(shared ? { sharedMemory: true } : {}) });
          this.options.log(`${peer} joined from ${address}`);
          this.options.onReady(peer);
          return;
        }
        if (!peer.ready) return this.drop(peer, 'UNEXPECTED_MESSAGE', `${m.type} before hello`);
        this.options.onResult(peer, m, false);
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
   * are not: local worker threads all share 127.0.0.1.) A worker that joined with a join link is
   * refused by its address alone: a page names itself as it likes, and the link may be public.
   */
  ban(peer: Peer): void {
    this.banned.add(banKey(peer));
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
    this.plane?.close();
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
    peer.plane?.release(peer);
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

/** A worker's identity for a ban: its host (without the port), and its label unless it joined with a join link. */
function banKey(peer: Peer): string {
  const host = peer.address.slice(0, peer.address.lastIndexOf(':'));
  return peer.via === 'join link' ? `${host}\njoin link` : `${host}\n${peer.label}`;
}
