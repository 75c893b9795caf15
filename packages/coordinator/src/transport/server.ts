import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { bearerToken, joinSecretOf, MAX_RESULT_BYTES, REASON_HEADER, SUBPROTOCOL, tokensEqual, type Reason } from '@mnist-lr/core/protocol';
import { Admission, DEFAULT_ADMISSION, peerKey, type AdmissionLimits, type AdmissionRefusal } from './admission.js';
import type { AuthLimiter } from '@mnist-lr/watch';
import { listenError } from './listen-check.js';
import { CLOSE_GRACE_MS } from './ws-connection.js';

export interface ListenOptions {
  /** Interface to bind. Default 127.0.0.1: nothing beyond this machine can connect unless told. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  token: string;
  /**
   * The run's join secret (a join link's #fragment): a connection that offers it as a subprotocol
   * value (a browser's join page) is admitted as a worker, as one with the token is. None: only the token admits.
   */
  joinSecret?: string;
  /** PEM certificate and key: serve wss:// instead of ws://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Called for every upgrade refused for its credentials (BAD_TOKEN, or BAD_JOIN_SECRET for a join
   * secret): address, reason, failures from it so far, delay applied.
   */
  onRefused?: (peer: string, reason: 'BAD_TOKEN' | 'BAD_JOIN_SECRET', count: number, delayMs: number) => void;
  /** Called for every upgrade refused because its Origin is not the coordinator's own (BAD_ORIGIN). */
  onOriginRefused?: (peer: string, origin: string) => void;
  /** Where failed authentications are counted and slowed down (shared with the dashboard's login). */
  limiter: AuthLimiter;
  /** The deadline and caps of connections that have not authenticated (defaults: DEFAULT_ADMISSION). */
  admission?: Partial<AdmissionLimits>;
  /** Called for every connection refused past a cap, or closed at its deadline before authenticating. */
  onAdmissionRefused?: (peer: string, reason: AdmissionRefusal, detail: string) => void;
  /**
   * Called with every authenticated WebSocket, the milliseconds left of its deadline for the hello,
   * and how it was admitted: with the run's token, or with the join secret of a join link.
   */
  onConnection: (ws: WebSocket, peer: string, helloWithinMs: number, via: Admitted) => void;
  /** Answers plain HTTP requests (the run's dashboard); by default they get 426 and a hint. */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** How a connection was admitted: the run's token, or a join link's secret (docs/browser-workers.md). */
export type Admitted = 'token' | 'join link';

export interface Listening {
  server: Server;
  wss: WebSocketServer;
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The coordinator's endpoint: HTTP(S) server whose upgrade handler checks the origin and the
 * credentials (as ws's docs advise, rather than verifyClient) before any WebSocket exists;
 * compression off, and a frame limit equal to the largest message a worker may send.
 *
 * An upgrade that carries an Origin header (browsers always send one) is accepted only from the
 * coordinator's own origin, the scheme and the Host it was reached at: a page of another site open
 * in the same browser is refused with 403 and BAD_ORIGIN before its credentials are even looked
 * at. Workers of other engines send no Origin. Credentials are the run's token (a Bearer header),
 * or, from a join page that cannot set headers, the join secret offered as a subprotocol value
 * (core's protocol/join.ts); the coordinator then selects SUBPROTOCOL and never echoes the secret.
 */
export async function listen(options: ListenOptions): Promise<Listening> {
  const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_RESULT_BYTES,
    clientTracking: true,
    // A join page offers SUBPROTOCOL beside its secret; workers that offer none get none.
    handleProtocols: (offered: Set<string>) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  server.on(
    'request',
    options.onRequest ??
      ((_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
        res.end('mnist-lr coordinator: workers connect with `mnist-lr worker --connect <this address>`\n');
      }),
  );
  const { limiter } = options;
  let delayed = 0;
  // Every connection gets its own deadline from the moment it is accepted (see admission.ts).
  const admission = new Admission({ ...DEFAULT_ADMISSION, ...options.admission }, options.onAdmissionRefused ?? (() => {}), options.tls !== undefined);
  server.on('connection', (socket) => admission.open(socket));
  server.prependListener('request', (req: IncomingMessage) => admission.release(peerKey(req.socket.remoteAddress, req.socket.remotePort)));
  // Node's own limits stay as a second line (it checks them only every 30 s).
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const address = req.socket.remoteAddress ?? '?';
    const peer = peerKey(address, req.socket.remotePort);
    const origin = req.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== ownOrigin(req, options.tls !== undefined)) {
      admission.release(peer);
      options.onOriginRefused?.(peer, origin);
      socket.end(`HTTP/1.1 403 Forbidden\r\n${REASON_HEADER}: BAD_ORIGIN\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const offered = joinSecretOf((req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()));
    const via: Admitted = offered === undefined ? 'token' : 'join link';
    const admitted = via === 'token' ? tokensEqual(bearerToken(req.headers.authorization) ?? '', options.token) : options.joinSecret !== undefined && tokensEqual(offered!, options.joinSecret);
    if (!admitted) {
      // Answered, at once or after the limiter's delay (itself bounded, below): the deadline no
      // longer needs to cut it.
      admission.release(peer);
      const { count, delayMs } = limiter.fail(address);
      const reason: Reason = via === 'token' ? 'BAD_TOKEN' : 'BAD_JOIN_SECRET';
      options.onRefused?.(peer, reason, count, delayMs);
      const refuse = (): void => {
        delayed = Math.max(0, delayed - (delayMs > 0 ? 1 : 0));
        socket.end(`HTTP/1.1 401 Unauthorized\r\n${REASON_HEADER}: ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      };
      if (delayMs === 0) return refuse();
      // Held refusals are bounded: past 256 of them, further ones are cut off without an answer.
      if (delayed >= 256) return void socket.destroy();
      delayed++;
      setTimeout(refuse, delayMs).unref();
      return;
    }
    limiter.succeed(address);
    const helloWithinMs = admission.upgraded(peer);
    wss.handleUpgrade(req, socket, head, (ws) => options.onConnection(ws, peer, helloWithinMs, via));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(listenError(e, options.host, options.port));
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    wss,
    port,
    url: `${options.tls ? 'wss' : 'ws'}://${host}:${port}`,
    close: async () => {
      admission.closeAll();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await closingHandshakes(wss, CLOSE_GRACE_MS);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections?.();
      await stopped;
    },
  };
}

/**
 * Waits, at most `ms`, for the sockets already told to close (a run's RUN_COMPLETE, say) to finish
 * their closing handshake. Destroyed at once instead, a peer that is still sending (a late answer)
 * gets a reset in place of the close frame, reads 1006 where the reason was, and reconnects to a
 * coordinator that is gone.
 */
function closingHandshakes(wss: WebSocketServer, ms: number): Promise<void> {
  const closing = [...wss.clients].filter((ws) => ws.readyState === ws.CLOSING);
  if (closing.length === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    let left = closing.length;
    const timer = setTimeout(resolve, ms);
    for (const ws of closing) {
      ws.once('close', () => {
        if (--left > 0) return;
        clearTimeout(timer);
        resolve();
      });
    }
  });
}

/** The origin a page of this server has: the scheme and the Host the request was sent to, in lower case. */
function ownOrigin(req: IncomingMessage, tls: boolean): string | undefined {
  const host = req.headers.host;
  return host === undefined ? undefined : `${tls ? 'https' : 'http'}://${host.toLowerCase()}`;
}
