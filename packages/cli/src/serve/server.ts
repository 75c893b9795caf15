/**
 * The prediction server of `mnist-lr serve`: node:http, no framework.
 *
 * Routes: GET / (the draw page), GET /draw.js and /draw.css (its files), POST /predict,
 * GET /healthz, and POST /login (the form shown beyond loopback). Every body is bounded in size
 * and in time; every answer carries a strict Content-Security-Policy.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { MnistLrError, type ModelFile } from '@mnist-lr/core';

import { Access, sessionCookie } from './auth.js';
import { baseHeaders, readBody, sendError, sendJson, type BodyLimits } from './http.js';
import { DRAW_CSS, FAVICON_SVG, drawPage, loginPage } from './page/html.js';
import { answer } from './predict-route.js';

export interface PredictServerOptions {
  model: ModelFile;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Required from beyond loopback (see Access); undefined: loopback clients only. */
  token?: string;
  /** Largest request body in bytes; default 2 MiB (a phone photo as JPEG fits; a canvas PNG is ~10 KB). */
  maxBodyBytes?: number;
  /** Time for a request to arrive whole, in milliseconds; default 10 000. */
  requestTimeoutMs?: number;
  /** Where unexpected errors are reported; default stderr. */
  log?: (line: string) => void;
}

export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** A login form is a few dozen bytes; never read more from a stranger. */
const LOGIN_MAX_BYTES = 4096;

export interface PredictServer {
  server: Server;
  /** http://host:port of the running server. */
  url: string;
  close(): Promise<void>;
}

/** The browser script, compiled from page/draw.ts beside this file by `pnpm build`. */
function drawScript(): string {
  const url = new URL('./page/draw.js', import.meta.url);
  try {
    return readFileSync(url, 'utf8');
  } catch (e) {
    throw new MnistLrError('FILE_UNREADABLE', `the draw page's script ${url.pathname} is missing (${(e as NodeJS.ErrnoException).code ?? ''}); run "pnpm build"`, { cause: e });
  }
}

/** What the draw page's request handler needs: the server's options bar where it listens. */
export interface PredictHandlerOptions extends Omit<PredictServerOptions, 'host' | 'port'> {
  /**
   * Someone in front has already let the request in (the run's dashboard mounts the handler
   * behind its own auth): every request is allowed. Default false: loopback or the token.
   */
  admitted?: boolean;
}

/**
 * The draw page's routes as one request handler, with no server of its own: `mnist-lr serve`
 * listens with it, and a finished run's dashboard mounts it under /draw/ (the page's URLs are
 * relative). Body limits are the handler's own; the server adds its timeouts.
 */
export function createPredictHandler(options: PredictHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const access = new Access(options.token);
  const limits: BodyLimits = {
    maxBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
  const files: Record<string, { type: string; body: string }> = {
    '/draw.js': { type: 'text/javascript; charset=utf-8', body: drawScript() },
    '/draw.css': { type: 'text/css; charset=utf-8', body: DRAW_CSS },
    '/favicon.svg': { type: 'image/svg+xml', body: FAVICON_SVG },
  };
  const page = drawPage(options.model.name);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // HEAD is answered as GET; node leaves the body out.
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const route = `${method} ${path}`;
    if (route === 'GET /healthz') return sendJson(res, 200, { status: 'ok', model: options.model.name });
    // The style and icon hold nothing private; the login form needs them before any session.
    if (route === 'GET /draw.css' || route === 'GET /favicon.svg') return sendFile(res, files[path]!);
    if (route === 'POST /login') return login(req, res, access);

    if (!options.admitted && !access.allows(req)) {
      if (method === 'GET' && path === '/') return sendHtml(res, 401, loginPage(false));
      throw new MnistLrError('UNAUTHORIZED', 'from beyond this machine, send the server\'s token as "Authorization: Bearer TOKEN", or log in at /');
    }
    if (route === 'GET /') return sendHtml(res, 200, page);
    if (route === 'GET /draw.js') return sendFile(res, files['/draw.js']!);
    if (route === 'POST /predict') {
      const body = await readBody(req, limits);
      return sendJson(res, 200, answer(options.model, body, req.headers['content-type']));
    }
    throw new MnistLrError('NOT_FOUND', `no route ${method} ${path}; this server has GET /, POST /predict and GET /healthz`);
  };

  return (req, res) => {
    handle(req, res).catch((e: unknown) => sendError(res, e, log));
  };
}

export async function startPredictServer(options: PredictServerOptions): Promise<PredictServer> {
  const limits: BodyLimits = {
    maxBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  };
  const handler = createPredictHandler(options);
  const server = createServer(handler);
  // Backstops behind readBody's own limit: slow headers, and any request left hanging.
  server.headersTimeout = limits.timeoutMs;
  server.requestTimeout = limits.timeoutMs * 2;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { ...baseHeaders(), 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(html)) });
  res.end(html);
}

function sendFile(res: ServerResponse, file: { type: string; body: string }): void {
  res.writeHead(200, { ...baseHeaders(), 'content-type': file.type, 'cache-control': 'no-cache', 'content-length': String(Buffer.byteLength(file.body)) });
  res.end(file.body);
}

/** POST /login: the form's token opens a session (cookie) and goes back to the page. */
async function login(req: IncomingMessage, res: ServerResponse, access: Access): Promise<void> {
  const body = await readBody(req, { maxBytes: LOGIN_MAX_BYTES, timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS });
  const token = new URLSearchParams(body.toString('utf8')).get('token') ?? '';
  const session = access.login(token);
  if (session === undefined) return sendHtml(res, 401, loginPage(true));
  res.writeHead(303, { ...baseHeaders(), location: './', 'set-cookie': sessionCookie(session), 'content-length': '0' });
  res.end();
}
