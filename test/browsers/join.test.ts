/**
 * A browser tab as a worker, as a person would use it: Chromium (V8) and Firefox (SpiderMonkey)
 * each open the join link of a real config_1 run beside one Node worker process, download the
 * dataset once, compute slices, rejoin after a reload from the dataset kept in the browser, and
 * are closed while a slice is on its way to them (a proxy holds it); the weights are the golden
 * ones, bit for bit. The run's token never appears in any URL the tab asks for. Screenshots of the
 * join page at a desktop and a phone size go to test-output/.
 * Where a browser is missing its tests skip with the reason, except in CI, where they fail.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { loadTrainingData, weightsSha256, type TrainingData } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { statusSchema } from '@mnist-lr/watch/status';

import { VIEWPORTS } from '../helpers/browser.js';
import { CuttingProxy } from '../helpers/chaos.js';
import { originConfig, ROOT, startProcessWorker, type ProcessWorker } from '../helpers/cluster.js';
import { GOLDEN } from '../helpers/golden.js';
import { BROWSERS, textOf, useBrowser, waitUntil, type Tab } from '../helpers/tabs.js';

const SHOTS = join(ROOT, 'test-output');
const golden = GOLDEN.find((g) => g.config === 'config_1')!;

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
  mkdirSync(SHOTS, { recursive: true });
});

const phase = (tab: Tab) => (): Promise<string> => tab.evaluate(() => document.body.dataset.phase ?? '');

describe.each(BROWSERS)('a %s tab opening the join link', (name) => {
  const { skip, browser } = useBrowser(name, 'the join page tests');

  it.skipIf(skip)('computes beside a Node worker, rejoins from its cache, is closed mid-step: the golden weights', async () => {
    const token = `token-${Math.random().toString(36).slice(2)}`;
    const seen: string[] = [];
    let tab: Tab | undefined;
    let proxy: CuttingProxy | undefined;
    let reassignedBeforeClose = 0;
    let closed: Promise<void> | undefined;
    const coordinator: Coordinator = await Coordinator.start({
      config: originConfig('config_1', { num_epoches: golden.epochs }),
      data,
      token,
      minWorkers: 2,
      pushIntervalMs: 100,
      hooks: {
        onStep: async (info) => {
          if (info.epoch === 0 && info.step === 100) {
            // Computing, with its rate against the run's median on show.
            expect(Number((await textOf(tab!, 'slices')).replace(/,/g, ''))).toBeGreaterThan(0);
            await waitUntil(() => textOf(tab!, 'ratio'), (t) => /×$/.test(t), 20_000, 'the rate against the median');
            // The run is held at step 100 while the page polls it.
            await waitUntil(() => textOf(tab!, 'step'), (t) => t === '100 of 600', 20_000, 'the step');
            expect(await textOf(tab!, 'kernel')).toBe('WebAssembly SIMD');
            await tab!.screenshot(join(SHOTS, `join-${name.toLowerCase()}-desktop.png`));
            await tab!.setViewport(VIEWPORTS.phone);
            await new Promise((r) => setTimeout(r, 300));
            await tab!.screenshot(join(SHOTS, `join-${name.toLowerCase()}-phone.png`), true);
            // Nothing scrolls sideways on a phone.
            expect(await tab!.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(VIEWPORTS.phone.width);
            await tab!.setViewport(VIEWPORTS.desktop);
            seen.push('computing');
          }
          if (info.epoch === 0 && info.step === 300) {
            // A reload leaves the run (the worker and its socket go with the page) and joins it
            // again, with the dataset this browser kept: it is not downloaded a second time.
            await tab!.goto('about:blank');
            await tab!.goto(proxied(coordinator.joinUrl!, proxy!));
            await waitUntil(phase(tab!), (p) => p === 'computing' || p === 'ended', 60_000, 'the tab to join again');
            expect(await tab!.evaluate(() => document.body.dataset.data)).toBe('cache');
            expect(await textOf(tab!, 'data')).toBe('kept in this browser, checked');
            seen.push('rejoined from its cache');
          }
          if (info.epoch === 1 && info.step === 200) {
            // The next step's slice for the tab is held in the proxy; the tab closes meanwhile.
            reassignedBeforeClose = coordinator.reassigned;
            proxy!.hold();
            closed = new Promise((r) => setTimeout(r, 300)).then(() => tab!.close());
            seen.push('closed mid-step');
          }
        },
      },
    });
    coordinator.monitor.describe({ name: 'config_1', path: 'configs/config_1.json', engine: 'coordinator' });
    let node: ProcessWorker | undefined;
    try {
      expect(coordinator.joinUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/join\/#[A-Za-z0-9_-]{43}$/);
      // The tab reaches the coordinator through a relay that can hold what it is sent.
      proxy = await CuttingProxy.start(coordinator.port);
      node = startProcessWorker(coordinator.url, token, ['--label', 'node']);
      tab = await browser().open(VIEWPORTS.desktop);
      await tab.goto(proxied(coordinator.joinUrl!, proxy));
      const state = await coordinator.run();
      await closed;
      expect(seen).toEqual(['computing', 'rejoined from its cache', 'closed mid-step']);
      expect(weightsSha256(state.weights)).toBe(golden.sha256);
      // The slice held for the closed tab went to the Node worker.
      expect(coordinator.reassigned).toBeGreaterThan(reassignedBeforeClose);

      const status = statusSchema.parse(coordinator.monitor.status());
      const engines = status.workers.map((w) => w.engine ?? '');
      expect(engines.filter((e) => e.startsWith(name === 'Chromium' ? 'Chrom' : 'Firefox ')), JSON.stringify(engines)).toHaveLength(2);
      expect(engines).toContain(`Node ${process.versions.node}`);
      const tabs = status.workers.filter((w) => w.label.startsWith('browser tab '));
      expect(tabs.every((w) => w.slices > 0), JSON.stringify(tabs)).toBe(true);

      // Downloaded once; the token nowhere in a URL, and the link's secret never sent in one.
      const urls = tab.urls;
      expect(urls.filter((u) => new URL(u).pathname === '/join/dataset')).toHaveLength(1);
      // (Playwright reports a worker's WebSocket too: there its address is checked as well.)
      if (name === 'Chromium') expect(urls.filter((u) => u.startsWith('ws://')).length).toBeGreaterThan(0);
      expect(coordinator.joinUrl).not.toContain(token);
      const secret = new URL(coordinator.joinUrl!).hash.slice(1);
      for (const u of urls) {
        expect(u).not.toContain(token);
        expect(u.replace(/#.*/, '')).not.toContain(secret);
      }
      expect(tab.errors).toEqual([]);
    } finally {
      node?.child.kill('SIGKILL');
      await coordinator.close();
      await proxy?.close();
      await tab?.close().catch(() => {});
    }
  });
});

/** The join link with the proxy's port instead of the coordinator's. */
function proxied(link: string, proxy: CuttingProxy): string {
  const url = new URL(link);
  url.port = String(proxy.port);
  return url.href;
}
