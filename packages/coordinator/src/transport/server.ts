import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_RESULT_BYTES, REASON_HEADER, tokensEqual } from '@mnist-lr/core/protocol';
import { Admission, DEFAULT_ADMISSION, peerKey, type AdmissionLimits, type AdmissionRefusal } from './admission.js';
import type { AuthLimiter } from '@mnist-lr/watch';
import { listenError } from './listen-check.js';

export interface ListenOptions {
  /** Interface to bind. Default 127.0.0.1: nothing beyond this machine can connect unless told. */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  token: string;
  /** PEM certificate and key: serve wss:// instead of ws://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Called for every upgrade refused for its token: address, failures from it so far, delay applied. */
  onRefused?: (peer: string, count: number, delayMs: number) => void;
  /** Where failed authentications are counted and slowed down (shared with the dashboard's login). */
  limiter: AuthLimiter;
  /** The deadline and caps of connections that have not authenticated (defaults: DEFAULT_ADMISSION). */
  admission?: Partial<AdmissionLimits>;
  /** Called for every connection refused past a cap, or closed at its deadline before authenticating. */
  onAdmissionRefused?: (peer: string, reason: AdmissionRefusal, detail: string) => void;
  /** Called with every authenticated WebSocket, and the milliseconds left of its deadline for the hello. */
  onConnection: (ws: WebSocket, peer: string, helloWithinMs: number) => void;
  /** Answers plain HTTP requests (the run's dashboard); by default they get 426 and a hint. */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface Listening {
  server: Server;
  wss: WebSocketServer;
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The coordinator's endpoint: HTTP(S) server whose upgrade handler checks the token (as ws's
 * docs advise, rather than verifyClient) before any WebSocket exists; compression off, and a
 * frame limit equal to the largest message a worker may send.
 */
export async function listen(options: ListenOptions): Promise<Listening> {
  const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_RESULT_BYTES, clientTracking: true });

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
    if (!tokensEqual(bearer(req) ?? '', options.token)) {
      // Answered, at once or after the limiter's delay (itself bounded, below): the deadline no
      // longer needs to cut it.
      admission.release(peer);
      const { count, delayMs } = limiter.fail(address);
      options.onRefused?.(peer, count, delayMs);
      const refuse = (): void => {
        delayed = Math.max(0, delayed - (delayMs > 0 ? 1 : 0));
        socket.end(`HTTP/1.1 401 Unauthorized\r\n${REASON_HEADER}: BAD_TOKEN\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
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
    wss.handleUpgrade(req, socket, head, (ws) => options.onConnection(ws, peer, helloWithinMs));
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
    close: () =>
      new Promise<void>((resolve) => {
        admission.closeAll();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice('Bearer '.length) : undefined;
}
