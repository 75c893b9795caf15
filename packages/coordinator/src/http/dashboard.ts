/**
 * The run's HTTP surface (DESIGN.md §9), answering plain requests on the coordinator's own port
 * beside the WebSocket upgrades, or on a loopback port of its own for an in-process run:
 *
 *   GET /          the live page (built into dist/page/)
 *   GET /events    Server-Sent Events: status and the event feed
 *   GET /status    JSON (see observe/status-schema.ts)
 *   GET /metrics   Prometheus text format
 *   GET /healthz   200 while the process is alive      } never need the token; beyond loopback
 *   GET /readyz    200 while waiting for workers or     } they tell nothing but that (probes.ts)
 *                  training, else 503
 *   POST /login    the login form's target beyond loopback: sets a session cookie
 *   /<prefix>/...  what mount() adds (e.g. the finished run's draw page), behind the same auth
 *
 * No route changes the run: everything but the login and mounted handlers is a read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { RunMonitor } from '../observe/run-monitor.js';
import type { AuthLimiterOptions } from '../transport/auth-limiter.js';
import { DashboardAuth } from './auth.js';
import { SECURITY_HEADERS } from './headers.js';
import { loginPage } from './login-page.js';
import { metricsRegistry } from './metrics.js';
import { loadPageAssets, type Asset } from './page-assets.js';
import { probe } from './probes.js';
import { EventStream } from './sse.js';

export interface DashboardOptions {
  monitor: RunMonitor;
  /** The run's token: needed beyond loopback. */
  token: string;
  /** The server listens on loopback only: no token asked. */
  open: boolean;
  /** Served over TLS (session cookies get Secure). */
  secure: boolean;
  /** Milliseconds between two pushes to the page. Default 1000. */
  pushIntervalMs?: number;
  authLimits?: AuthLimiterOptions;
}

/** A handler mounted under a prefix: it sees req.url with the prefix taken off (always starting with '/'). */
export type MountedHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface Dashboard {
  /** Answers one plain HTTP request. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Serves GET and POST requests under `prefix` ('/draw/') with `handler`, behind the dashboard's
   * own auth; GET of the prefix without its slash redirects to it (so relative URLs resolve).
   */
  mount(prefix: string, handler: MountedHandler): void;
  /** Pages watching now. */
  readonly listeners: number;
  close(): void;
}

/** A login form body is a token and little else. */
const MAX_LOGIN_BODY = 4096;

export function createDashboard(options: DashboardOptions): Dashboard {
  const { monitor } = options;
  const auth = new DashboardAuth({ token: options.token, open: options.open, secure: options.secure, limits: options.authLimits });
  const registry = metricsRegistry(monitor);
  const stream = new EventStream(monitor, { intervalMs: options.pushIntervalMs });
  const assets = loadPageAssets();
  const mounts = new Map<string, MountedHandler>();

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', ...extra });
    res.end(body);
  };
  const text = (res: ServerResponse, status: number, body: string): void => send(res, status, 'text/plain; charset=utf-8', `${body}\n`);

  const unauthorized = (req: IncomingMessage, res: ServerResponse, message = ''): void => {
    if ((req.headers.accept ?? '').includes('text/html')) {
      send(res, 401, 'text/html; charset=utf-8', loginPage(message), { 'www-authenticate': 'Bearer realm="mnist-lr"' });
    } else {
      send(res, 401, 'text/plain; charset=utf-8', 'this run needs its token: send Authorization: Bearer <token>, or log in on the page\n', { 'www-authenticate': 'Bearer realm="mnist-lr"' });
    }
  };

  const login = (req: IncomingMessage, res: ServerResponse): void => {
    let body = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      if (tooLarge) return;
      body += chunk;
      if (body.length > MAX_LOGIN_BODY) {
        tooLarge = true;
        text(res, 413, 'the login form sends a token only');
        req.destroy();
      }
    });
    req.on('end', () => {
      if (tooLarge) return;
      const token = new URLSearchParams(body).get('token') ?? '';
      const outcome = auth.login(req.socket.remoteAddress ?? '?', token.trim());
      if ('cookie' in outcome) {
        send(res, 303, 'text/plain; charset=utf-8', 'logged in\n', { location: '/', 'set-cookie': outcome.cookie });
        return;
      }
      const answer = (): void => send(res, 401, 'text/html; charset=utf-8', loginPage('That is not the token this run was started with.'));
      if (outcome.delayMs > 0) setTimeout(answer, outcome.delayMs).unref();
      else answer();
    });
  };

  const route = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    switch (path) {
      case '/status':
        send(res, 200, 'application/json; charset=utf-8', JSON.stringify(monitor.status()));
        return;
      case '/metrics':
        registry.metrics().then(
          (body) => send(res, 200, registry.contentType, body),
          (e: Error) => text(res, 500, `metrics failed: ${e.message}`),
        );
        return;
      case '/events':
        stream.add(req, res, SECURITY_HEADERS);
        return;
    }
    const asset: Asset | undefined = assets.get(path);
    if (asset) {
      // The page is small and changes with the build: always revalidate.
      send(res, 200, asset.type, asset.body, { 'cache-control': 'no-cache' });
      return;
    }
    if (path === '/') text(res, 503, 'the page was not built with this package; run `pnpm build` (/status and /metrics work without it)');
    else text(res, 404, `no such page: try /, /status, /metrics, /healthz or /readyz`);
  };

  return {
    get listeners() {
      return stream.listeners;
    },
    close: () => stream.close(),
    mount(prefix, handler) {
      if (!/^\/[a-z0-9-]+\/$/.test(prefix)) throw new Error(`a mount prefix looks like /name/, not ${prefix}`);
      mounts.set(prefix, handler);
    },
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0]!;
      const answer = req.method === 'GET' || req.method === 'HEAD' ? probe(path, monitor, auth.open) : undefined;
      if (answer) return text(res, answer.status, answer.body);
      if (path === '/login' && req.method === 'POST') return login(req, res);
      const prefix = mounts.has(`${path}/`) ? `${path}/` : /^\/[a-z0-9-]+\//.exec(path)?.[0];
      const mounted = prefix === undefined ? undefined : mounts.get(prefix);
      if (prefix !== undefined && mounted) {
        const allowed = auth.allowed(req);
        if (allowed === 'no') return unauthorized(req, res);
        if (allowed !== 'yes') return void setTimeout(() => unauthorized(req, res), allowed.delayMs).unref();
        if (path === prefix.slice(0, -1)) return send(res, 308, 'text/plain; charset=utf-8', `see ${prefix}\n`, { location: prefix });
        req.url = (req.url ?? '/').slice(prefix.length - 1);
        return mounted(req, res);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, 'text/plain; charset=utf-8', 'read-only: only GET (and POST /login) are answered\n', { allow: 'GET, HEAD' });
        return;
      }
      const allowed = auth.allowed(req);
      if (allowed === 'yes') return route(req, res, path);
      if (allowed === 'no') return unauthorized(req, res);
      setTimeout(() => unauthorized(req, res), allowed.delayMs).unref();
    },
  };
}
