/** An HTTP server of this package on a port of its own (loopback and a free port unless told). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { MnistLrError, type OptionRule } from '@mnist-lr/core/engine';

export interface Listening {
  server: Server;
  /** http://host:port/ of the running server. */
  url: string;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Time for a request's headers to arrive, ms. Default 10000. */
  headersTimeoutMs?: number;
  /** Time for a whole request, ms; 0: none (a page's event stream stays open). Default 0. */
  requestTimeoutMs?: number;
}

/** 127.0.0.0/8, ::1 and localhost: addresses nothing beyond this machine can connect to. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The options of where a server listens and of its token, as checkOptions takes them. */
export const LISTEN_OPTIONS = {
  host: { kind: 'string', nonEmpty: true },
  port: { kind: 'integer', min: 0, max: 65_535 },
  token: { kind: 'string', nonEmpty: true },
} satisfies Record<string, OptionRule>;

/**
 * Where `what` listens (`host`, default 127.0.0.1) and whether it is open: on loopback it is;
 * beyond it, a server without a token is refused with BAD_OPTION before it listens.
 */
export function listenAt(options: { host?: string; token?: string }, what: string): { host: string; open: boolean } {
  const host = options.host ?? '127.0.0.1';
  const open = isLoopbackHost(host);
  if (!open && !options.token) throw new MnistLrError('BAD_OPTION', `${what} on ${host} would let other machines connect: give it a token`);
  return { host, open };
}

/** Listens with `handler`; rejects with the listen error (EADDRINUSE, …) as Node gives it. */
export async function listenHttp(handler: (req: IncomingMessage, res: ServerResponse) => void, options: ListenOptions = {}): Promise<Listening> {
  const server = createServer(handler);
  server.headersTimeout = options.headersTimeoutMs ?? 10_000;
  server.requestTimeout = options.requestTimeoutMs ?? 0;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
