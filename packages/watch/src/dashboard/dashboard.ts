/**
 * The run's HTTP surface (DESIGN.md §9), answering plain requests on the coordinator's own port
 * beside the WebSocket upgrades, or on a loopback port of its own for an in-process run:
 *
 *   GET /          the live page (built into dist/pages/dashboard/)
 *   GET /events    Server-Sent Events: status and the event feed
 *   GET /status    JSON (see monitor/status-schema.ts)
 *   GET /metrics   Prometheus text format
 *   GET /healthz   200 while the process is alive      } never need the token; beyond loopback
 *   GET /readyz    200 while waiting for workers or     } they tell nothing but that (probes.ts)
 *                  training, else 503
 *   GET /join-link the join link with its secret, and whether other devices can reach it, with
 *                  `join` (JSON { url, reachable }; 404 without)
 *   POST /login    the login form's target beyond loopback (see http/gate.ts): sets a session cookie
 *   /join/...      the join page and its routes, with `join`: outside this door, behind the join
 *                  link's secret (see join/routes.ts)
 *   /<prefix>/...  what mount() adds (e.g. the finished run's draw page), behind the same auth
 *
 * No route changes the run: everything but the login and mounted handlers is a read.
 */
import { probe } from './probes.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { RunMonitor } from '../monitor/run-monitor.js';
import { loadPage, type Asset } from '../http/assets.js';
import type { AccessOptions } from '../http/access.js';
import { createGate } from '../http/gate.js';
import { SECURITY_HEADERS } from '../http/headers.js';
import { AuthLimiter } from '../http/auth-limiter.js';
import { send, sendJson, sendText } from '../http/respond.js';
import { createJoinRoutes, type JoinOptions } from '../join/routes.js';
import { EventStream } from './sse.js';

/** Who may look (see http/access.ts), what they see, and how often it is pushed to them. */
export interface DashboardOptions extends Pick<AccessOptions, 'token' | 'open' | 'secure' | 'limiter'> {
  monitor: RunMonitor;
  /** Milliseconds between two pushes to the page. Default 1000. */
  pushIntervalMs?: number;
  /** Serve a join link: its page and routes, and the link on the dashboard. Default: none. */
  join?: JoinOptions;
  /** Where the gate and the join routes report their failures. Default: stderr. */
  log?: (line: string) => void;
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
  close(): void;
}

export function createDashboard(options: DashboardOptions): Dashboard {
  const { monitor } = options;
  const limiter = options.limiter ?? new AuthLimiter();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const gate = createGate({ token: options.token, open: options.open, secure: options.secure, limiter, log });
  const join = options.join ? createJoinRoutes({ ...options.join, monitor, limiter, log }) : undefined;
  // prom-client (and what it loads: about 90 files) only with the first scrape: a run that nobody
  // scrapes starts without it.
  let metrics: Promise<{ body: () => Promise<string>; contentType: string }> | undefined;
  const loadMetrics = (): NonNullable<typeof metrics> =>
    (metrics ??= import('./metrics.js').then(({ metricsRegistry, scrape }) => {
      const registry = metricsRegistry(monitor);
      return { body: () => scrape(registry), contentType: registry.contentType };
    }));
  const stream = new EventStream(monitor, { intervalMs: options.pushIntervalMs });
  const assets = loadPage('dashboard');
  const mounts = new Map<string, MountedHandler>();

  const route = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    switch (path) {
      case '/status':
        send(res, 200, 'application/json; charset=utf-8', JSON.stringify(monitor.status()));
        return;
      case '/metrics':
        loadMetrics().then(async (m) => ({ type: m.contentType, body: await m.body() })).then(
          ({ type, body }) => send(res, 200, type, body),
          (e: Error) => sendText(res, 500, `metrics failed: ${e.message}`),
        );
        return;
      case '/events':
        stream.add(req, res, SECURITY_HEADERS);
        return;
      case '/join-link':
        // `reachable`: whether other devices can reach the link (the server listens beyond
        // loopback). The server knows; the page cannot tell from a host name (a LAN name, a proxy).
        if (options.join) sendJson(res, 200, { url: options.join.link(), reachable: !options.open });
        else sendText(res, 404, 'this run has no join link');
        return;
    }
    const asset: Asset | undefined = assets.get(path);
    if (asset) {
      // The page is small and changes with the build: always revalidate.
      send(res, 200, asset.type, asset.body, { 'cache-control': 'no-cache' });
      return;
    }
    if (path === '/') sendText(res, 503, 'the page was not built with this package; run `pnpm build` (/status and /metrics work without it)');
    else sendText(res, 404, `no such page: try /, /status, /metrics, /healthz or /readyz`);
  };

  return {
    close: () => stream.close(),
    mount(prefix, handler) {
      if (!/^\/[a-z0-9-]+\/$/.test(prefix)) throw new Error(`a mount prefix looks like /name/, not ${prefix}`);
      mounts.set(prefix, handler);
    },
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0]!;
      // The probes answer without the token, and beyond loopback tell readiness only (probes.ts).
      const answer = req.method === 'GET' || req.method === 'HEAD' ? probe(path, monitor, options.open) : undefined;
      if (answer) return sendText(res, answer.status, answer.body);
      if (join?.answer(req, res, path)) return;
      if (gate.answers(req, res, path)) return;
      const prefix = mounts.has(`${path}/`) ? `${path}/` : /^\/[a-z0-9-]+\//.exec(path)?.[0];
      const mounted = prefix === undefined ? undefined : mounts.get(prefix);
      if (prefix !== undefined && mounted) {
        return gate.admit(req, res, path, () => {
          if (path === prefix.slice(0, -1)) return sendText(res, 308, `see ${prefix}`, { location: prefix });
          req.url = (req.url ?? '/').slice(prefix.length - 1);
          mounted(req, res);
        });
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendText(res, 405, 'read-only: only GET (and POST /login) are answered', { allow: 'GET, HEAD' });
      }
      gate.admit(req, res, path, () => route(req, res, path));
    },
  };
}
