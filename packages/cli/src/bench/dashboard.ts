/**
 * What watching costs a run: step times of one run (2 local worker threads, batch 100) measured
 * in alternating windows with nobody watching and with the dashboard open in two browsers, so
 * that both conditions share the machine's state (JIT, heap, other load). The browsers are
 * headless Chromium through playwright-core where both are installed (the repository's dev
 * setup); elsewhere two plain SSE clients that also poll /status and /metrics stand in, and the
 * table says so.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { Worker } from 'node:worker_threads';

import { Coordinator } from '@mnist-lr/coordinator';
import { parseConfig, type TrainingData } from '@mnist-lr/core/engine';
import { workerThreadEntry } from '@mnist-lr/worker';

import { mean, median, table } from './stats.js';

export interface DashboardBenchOptions {
  /** Seconds per measuring window. */
  windowSeconds: number;
  /** Windows of each condition, interleaved. */
  rounds: number;
  log: (line: string) => void;
}

/** Two watchers of a page: open() points them at it, close() takes them away. */
interface Watchers {
  kind: string;
  open(url: string): Promise<void>;
  close(): Promise<void>;
  dispose(): Promise<void>;
}

const WARMUP_MS = 2000;
/** Steps right after a switch are not counted: page loads and first renders are not watching. */
const SETTLE_MS = 500;

export async function benchDashboard(data: TrainingData, options: DashboardBenchOptions): Promise<string> {
  const config = parseConfig({ num_epoches: 1000, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
  const token = randomBytes(16).toString('hex');
  const abort = new AbortController();
  const times: Record<'none' | 'watched', number[]> = { none: [], watched: [] };
  let phase: 'none' | 'watched' | null = null;
  let countFrom = Infinity;
  let last = 0;
  const coordinator = await Coordinator.start({
    config,
    data,
    token,
    minWorkers: 2,
    workerWaitMs: 30_000,
    signal: abort.signal,
    hooks: {
      onStep: () => {
        const now = performance.now();
        if (phase !== null && now >= countFrom && last > 0) times[phase].push(now - last);
        last = now;
      },
    },
  });
  const threads = Array.from({ length: 2 }, (_, i) => new Worker(workerThreadEntry(), { workerData: { url: coordinator.url, token, label: `bench-${i}` } }));
  const watchers = await makeWatchers(options.log);
  const run = coordinator.run().catch((e: unknown) => {
    if (!abort.signal.aborted) throw e;
  });
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  try {
    while (coordinator.monitor.state !== 'training') await sleep(50);
    await sleep(WARMUP_MS);
    for (let r = 0; r < options.rounds; r++) {
      for (const p of ['none', 'watched'] as const) {
        phase = null;
        if (p === 'watched') await watchers.open(coordinator.dashboardUrl);
        else await watchers.close();
        countFrom = performance.now() + SETTLE_MS;
        phase = p;
        await sleep(SETTLE_MS + options.windowSeconds * 1000);
      }
      options.log(`round ${r + 1}/${options.rounds}: ${times.none.length} steps unwatched, ${times.watched.length} watched so far`);
    }
  } finally {
    phase = null;
    abort.abort();
    await run;
    await watchers.dispose();
    await coordinator.close();
    await Promise.all(threads.map((t) => t.terminate()));
  }
  const base = median(times.none);
  const rows = (['none', 'watched'] as const).map((p) => {
    const m = median(times[p]);
    return [p === 'none' ? 'nobody watching' : `dashboard open in ${watchers.kind}`, String(times[p].length), m.toFixed(3), mean(times[p]).toFixed(3), `${((m / base - 1) * 100).toFixed(1)} %`];
  });
  return table(['condition (batch 100, 2 worker threads)', 'steps', 'median ms/step', 'mean ms/step', 'median vs nobody'], rows);
}

async function makeWatchers(log: (line: string) => void): Promise<Watchers> {
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (existsSync(chromiumPath)) {
    try {
      // A dev dependency of the repository, not of the command: loaded only if it is there.
      const specifier = 'playwright-core';
      const { chromium } = (await import(specifier)) as { chromium: Chromium };
      const launch = (): Promise<ChromiumBrowser> => chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
      const browsers = await Promise.all([launch(), launch()]);
      const pages = await Promise.all(browsers.map((b) => b.newPage({ viewport: { width: 1280, height: 800 } })));
      return {
        kind: '2 Chromium browsers',
        open: async (url) => {
          await Promise.all(pages.map((p) => p.goto(url)));
        },
        close: async () => {
          await Promise.all(pages.map((p) => p.goto('about:blank')));
        },
        dispose: async () => {
          await Promise.all(browsers.map((b) => b.close()));
        },
      };
    } catch (e) {
      log(`no browser for the dashboard bench (${(e as Error).message.split('\n')[0]}); two SSE clients stand in`);
    }
  }
  return sseWatchers();
}

interface ChromiumPage {
  goto(url: string): Promise<unknown>;
}
interface ChromiumBrowser {
  newPage(o: { viewport: { width: number; height: number } }): Promise<ChromiumPage>;
  close(): Promise<void>;
}
interface Chromium {
  launch(o: { executablePath: string; headless: boolean; args: string[] }): Promise<ChromiumBrowser>;
}

/** Two clients reading /events, each also fetching /status and /metrics every second. */
function sseWatchers(): Watchers {
  let stop: Array<() => void> = [];
  const get = (url: string, onData?: () => void): (() => void) => {
    const req = request(url, (res) => res.on('data', () => onData?.()).resume());
    req.on('error', () => {});
    req.end();
    return () => req.destroy();
  };
  return {
    kind: '2 SSE clients',
    open: async (url) => {
      for (let i = 0; i < 2; i++) {
        stop.push(get(new URL('/events', url).href));
        const timer = setInterval(() => {
          get(new URL('/status', url).href);
          get(new URL('/metrics', url).href);
        }, 1000);
        stop.push(() => clearInterval(timer));
      }
    },
    close: async () => {
      for (const s of stop) s();
      stop = [];
    },
    dispose: async () => {
      for (const s of stop) s();
      stop = [];
    },
  };
}
