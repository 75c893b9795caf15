/**
 * The draw page of a model (`mnist-lr serve`, and a finished run's dashboard under /draw/):
 * node:http, no framework.
 *
 * Routes: GET / (the page), its files (draw.js, draw.css, favicon.svg), POST /predict,
 * GET /healthz, and what the gate owns (POST /login and its stylesheet, beyond loopback). Every
 * body is bounded in size and in time; every answer carries the package's security headers.
 * The page's URLs are relative, so it also works mounted under a path of another server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { checkOptions, MnistLrError, type ModelFile } from '@mnist-lr/core/engine';

import { loadPage, type Asset } from '../http/assets.js';
import { createGate } from '../http/gate.js';
import { escapeHtml } from '../http/html.js';
import { LISTEN_OPTIONS, listenAt, listenHttp } from '../http/listen.js';
import { readBody, send, sendError, sendJson, type BodyLimits } from '../http/respond.js';
import { answer, type ImageDecoder } from './predict-route.js';

export interface PredictHandlerOptions {
  model: ModelFile;
  /** Reads an image file sent to POST /predict (PNG, JPEG, …) into rasters. */
  decode: ImageDecoder;
  /**
   * The token asked from beyond loopback; required unless `open`. Ignored when `admitted`.
   */
  token?: string;
  /** No token needed: the server listens on loopback only. Default false. */
  open?: boolean;
  /**
   * Someone in front has already let the request in (the run's dashboard mounts the handler
   * behind its own gate): every request is allowed. Default false.
   */
  admitted?: boolean;
  /** Largest request body in bytes; default 2 MiB (a phone photo as JPEG fits; a canvas PNG is ~10 KB). */
  maxBodyBytes?: number;
  /** Time for a request to arrive whole, in milliseconds; default 10 000. */
  requestTimeoutMs?: number;
  /** Where unexpected errors are reported; default stderr. */
  log?: (line: string) => void;
}

export interface PredictServerOptions extends Omit<PredictHandlerOptions, 'admitted' | 'open'> {
  /** Interface to listen on; default 127.0.0.1. Beyond loopback, `token` is required. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
}

const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface PredictServer {
  /** http://host:port of the running server. */
  url: string;
  close(): Promise<void>;
}

/** The built page's files, its HTML naming the model. */
function drawPage(name: string): Map<string, Asset> {
  const files = loadPage('draw');
  const html = files.get('/');
  if (!html || !files.has('/draw.js')) {
    throw new MnistLrError('FILE_UNREADABLE', 'the draw page was not built with this package; run "pnpm build"');
  }
  files.set('/', { ...html, body: Buffer.from(html.body.toString('utf8').replace('{{model}}', escapeHtml(name))) });
  return files;
}

/**
 * The draw page's routes as one request handler, with no server of its own: `startPredictServer`
 * listens with it, and a finished run's dashboard mounts it under /draw/. Body limits are the
 * handler's own; the server adds its timeouts.
 */
export function createPredictHandler(options: PredictHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const gate = createGate({ token: options.token, open: options.admitted === true || options.open === true, log });
  const limits: BodyLimits = {
    maxBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    timeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    hint: 'send a smaller image (a 28×28 or 280×280 PNG is a few KB)',
  };
  const files = drawPage(options.model.name);

  const route = async (req: IncomingMessage, res: ServerResponse, method: string, path: string): Promise<void> => {
    const file = method === 'GET' ? files.get(path) : undefined;
    // The page names the model, which may change with the next `serve`: revalidate it all.
    if (file) return send(res, 200, file.type, file.body, { 'cache-control': 'no-cache' });
    if (method === 'POST' && path === '/predict') {
      const body = await readBody(req, limits);
      return sendJson(res, 200, answer(options.model, options.decode, body, req.headers['content-type']));
    }
    throw new MnistLrError('NOT_FOUND', `no route ${method} ${path}; this server has GET /, POST /predict and GET /healthz`);
  };

  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    // HEAD is answered as GET; node leaves the body out.
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    if (method === 'GET' && path === '/healthz') return sendJson(res, 200, { status: 'ok', model: options.model.name });
    if (gate.answers(req, res, path)) return;
    gate.admit(req, res, path, () => {
      route(req, res, method, path).catch((e: unknown) => sendError(res, e, log));
    });
  };
}

/** Serves a model's draw page and predictions on a server of its own, until closed. */
export async function startPredictServer(options: PredictServerOptions): Promise<PredictServer> {
  checkOptions(options, 'startPredictServer()', {
    model: { kind: 'object', required: true },
    decode: { kind: 'function', required: true },
    ...LISTEN_OPTIONS,
    maxBodyBytes: { kind: 'integer', min: 1, max: 2 ** 31 - 1 },
    requestTimeoutMs: { kind: 'integer', min: 1, max: 2 ** 31 - 1 },
    log: { kind: 'function' },
  });
  const { host, open } = listenAt(options, 'startPredictServer()');
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // Backstops behind readBody's own limit: slow headers, and any request left hanging.
  const listening = await listenHttp(createPredictHandler({ ...options, open }), { host, port: options.port, headersTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs * 2 });
  return { url: listening.url.replace(/\/$/, ''), close: () => listening.close() };
}
