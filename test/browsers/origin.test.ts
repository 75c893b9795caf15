/**
 * Who can use a join link, from a real browser: a page of another site (another origin) open in
 * the same browser that opens a WebSocket to the coordinator, even with the right join secret, is
 * refused before any WebSocket exists (BAD_ORIGIN, counted and in the event feed), and cannot read
 * the join routes either (the browser's CORS check). A join link without its secret, or with a
 * wrong one, gets nothing: the page makes no data request without a secret, the coordinator
 * answers none with a wrong one, and no WebSocket is opened.
 * Where a browser is missing its tests skip with the reason, except in CI, where they fail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadTrainingData, type TrainingData } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { JOIN_HEADER, joinProtocols } from '@mnist-lr/core/protocol';

import { VIEWPORTS } from '../helpers/browser.js';
import { originConfig, waitFor } from '../helpers/cluster.js';
import { BROWSERS, textOf, useBrowser, waitUntil } from '../helpers/tabs.js';

let data: TrainingData;
let coordinator: Coordinator;
let secret: string;
let evil: Server;
let evilUrl: string;

beforeAll(async () => {
  data = loadTrainingData();
  // A run that waits for a worker that never comes: its routes are up the whole time.
  coordinator = await Coordinator.start({ config: originConfig('config_1', { num_epoches: 1 }), data, token: `token-${Math.random().toString(36).slice(2)}`, workerWaitMs: 600_000 });
  void coordinator.run().catch(() => {});
  secret = new URL(coordinator.joinUrl!).hash.slice(1);
  // Another site: same host, another port, so another origin.
  evil = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><meta charset="utf-8"><title>another site</title>`);
  });
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await coordinator?.close();
  await new Promise<void>((r) => evil.close(() => r()));
});

describe.each(BROWSERS)('in %s', (name) => {
  const { skip, browser } = useBrowser(name, 'the join link tests');

  it.skipIf(skip)("a page of another origin cannot connect, even with the link's secret, nor read the join routes", async () => {
    const tab = await browser().open(VIEWPORTS.desktop);
    const before = coordinator.refused.BAD_ORIGIN ?? 0;
    try {
      await tab.goto(evilUrl);
      const attempt = await tab.evaluateWith(
        async ({ ws, http, protocols, header }) => {
          const socket = await new Promise<{ opened: boolean; code: number }>((resolve) => {
            let opened = false;
            const s = new WebSocket(ws, protocols);
            s.onopen = () => (opened = true);
            s.onclose = (e) => resolve({ opened, code: e.code });
          });
          let read: string;
          try {
            read = await (await fetch(`${http}join/run`, { headers: { [header]: protocols[1]!.slice('mnist-lr.join.'.length) } })).text();
          } catch (e) {
            read = `refused: ${(e as Error).name}`;
          }
          return { socket, read };
        },
        { ws: coordinator.url, http: `${coordinator.dashboardUrl}`, protocols: joinProtocols(secret), header: JOIN_HEADER },
      );
      expect(attempt.socket).toEqual({ opened: false, code: 1006 });
      expect(attempt.read).toBe('refused: TypeError');
      await waitFor(() => (coordinator.refused.BAD_ORIGIN ?? 0) > before, 10_000, 'the refusal to be counted');
      const feed = coordinator.monitor.eventsAfter(0).filter((e) => e.reason === 'BAD_ORIGIN');
      expect(feed.at(-1)?.text).toContain(`a page of ${new URL(evilUrl).origin} (another site) tried to connect`);
    } finally {
      await tab.close();
    }
  });

  it.skipIf(skip)('a join link without its secret, or with a wrong one, gets nothing', async () => {
    const tab = await browser().open(VIEWPORTS.desktop);
    try {
      const page = new URL(coordinator.joinUrl!);
      page.hash = '';
      await tab.goto(page.href);
      await waitUntil(() => tab.evaluate(() => document.body.dataset.reason ?? ''), (r) => r !== '', 20_000, 'the page to give up');
      expect(await tab.evaluate(() => document.body.dataset.reason)).toBe('NO_SECRET');
      expect(await textOf(tab, 'detail')).toContain('lacks the join secret');
      const asked = tab.urls.map((u) => new URL(u).pathname);
      expect(asked.filter((p) => p === '/join/run' || p === '/join/dataset' || !p.startsWith('/join/'))).toEqual([]);

      page.hash = 'A'.repeat(43);
      await tab.goto('about:blank');
      await tab.goto(page.href);
      await waitUntil(() => tab.evaluate(() => document.body.dataset.reason ?? ''), (r) => r !== '', 20_000, 'the page to give up');
      expect(await tab.evaluate(() => document.body.dataset.reason)).toBe('BAD_JOIN_SECRET');
      expect(await textOf(tab, 'detail')).toContain("the join link's secret is not this run's");
      expect(tab.urls.filter((u) => new URL(u).pathname === '/join/dataset' || u.startsWith('ws'))).toEqual([]);
      expect(coordinator.workers).toBe(0);
    } finally {
      await tab.close();
    }
  });
});
