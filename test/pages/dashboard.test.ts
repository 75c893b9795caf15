/**
 * The dashboard as a person sees it: real headless Chromium on the page of a real run with two
 * worker processes. The curves gain a point per epoch; the workers table goes from 2 to 1 when a
 * worker is killed with SIGKILL, and the event feed names the reason; a worker label holding HTML
 * and control characters shows as inert text; the console stays free of errors. Screenshots at a
 * desktop and a phone size are saved to test-output/ for a look (docs/watching.md shows one).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadTrainingData, type TrainingData } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';

import { browserMissing, collectPageErrors, launchBrowser, VIEWPORTS } from '../helpers/browser.js';
import { originConfig, ROOT, startProcessWorker, startThreadWorker, type ProcessWorker } from '../helpers/cluster.js';
import { skipFor } from '../helpers/requires.js';

const missing = browserMissing();

const SHOTS = join(ROOT, 'test-output');
const secret = (): string => `token-${Math.random().toString(36).slice(2)}`;

let data: TrainingData;
let browser: Browser;
beforeAll(async () => {
  if (missing) return;
  data = loadTrainingData();
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => browser?.close());

/** Rows of the workers table, as the page shows them. */
const rows = (page: Page): Promise<number> => page.locator('#workers tbody tr').count();
const points = (page: Page): Promise<string | null> => page.locator('#chart-loss').getAttribute('data-points');

describe.skipIf(skipFor('the dashboard page tests', missing))('the dashboard page', () => {
  it('follows a run with two worker processes: a point per epoch, a killed worker leaves the table with its reason', async () => {
    const page = await browser.newPage({ viewport: VIEWPORTS.desktop });
    const errors = collectPageErrors(page);
    const token = secret();
    const workers: ProcessWorker[] = [];
    const seen: string[] = [];
    const config = originConfig('config_1', { num_epoches: 3 });
    const coordinator: Coordinator = await Coordinator.start({
      config,
      data,
      token,
      minWorkers: 2,
      pushIntervalMs: 100,
      hooks: {
        onStep: async (info) => {
          if (info.epoch === 0 && info.step === 5) {
            await expect.poll(() => rows(page), { timeout: 20_000 }).toBe(2);
            seen.push('2 workers');
          }
          if (info.epoch === 1 && info.step === 300) {
            workers[1]!.child.kill('SIGKILL');
            // The run is held here until the page shows the departure.
            await expect.poll(() => rows(page), { timeout: 20_000 }).toBe(1);
            await expect.poll(() => page.locator('#feed li[data-kind=leave]').first().textContent(), { timeout: 20_000 }).toContain('[CONNECTION_LOST]');
            seen.push('1 worker');
          }
          if (info.epoch === 2 && info.step === 450) {
            // Mid-epoch, with curves and a live training loss to show: the epoch's curve so far
            // (a point every sixth step), however short the epoch.
            await expect.poll(() => page.locator('#chart-train').getAttribute('data-points'), { timeout: 20_000 }).toBe(String(1 + 450 / 6));
            await page.waitForTimeout(300);
            await page.screenshot({ path: join(SHOTS, 'dashboard-desktop.png') });
            await page.setViewportSize(VIEWPORTS.phone);
            await page.waitForTimeout(300);
            await page.screenshot({ path: join(SHOTS, 'dashboard-phone.png'), fullPage: true });
            // The page fits the phone's width: nothing scrolls sideways, the workers table included.
            expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(VIEWPORTS.phone.width);
            const table = await page.locator('#workers').evaluate((t) => ({ width: t.scrollWidth, room: t.parentElement!.clientWidth }));
            expect(table.width).toBeLessThanOrEqual(table.room);
            await page.setViewportSize(VIEWPORTS.desktop);
          }
        },
        onEpoch: async (m) => {
          // Each epoch adds one point to the curves before the next begins.
          await expect.poll(() => points(page), { timeout: 20_000 }).toBe(String(m.epoch));
          seen.push(`epoch ${m.epoch}`);
        },
      },
    });
    coordinator.monitor.describe({ name: 'config_1', path: 'configs/config_1.json', engine: 'coordinator with 2 worker processes' });
    try {
      await page.goto(coordinator.dashboardUrl);
      // A coordinator on loopback shows its join link without a QR code: no phone can reach it.
      await expect.poll(() => page.locator('#join').isVisible(), { timeout: 20_000 }).toBe(true);
      expect(await page.locator('#join-link').textContent()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/join\/#[\w-]{43}$/);
      expect(await page.locator('#join-qr').isVisible()).toBe(false);
      expect(await page.locator('#join-text').textContent()).toContain('--host 0.0.0.0');
      workers.push(startProcessWorker(coordinator.url, token, ['--label', 'process 1']), startProcessWorker(coordinator.url, token, ['--label', 'process 2']));
      await coordinator.run();
      await expect.poll(() => page.locator('#state').textContent(), { timeout: 20_000 }).toBe('finished');
      expect(seen).toEqual(['2 workers', 'epoch 1', '1 worker', 'epoch 2', 'epoch 3']);
      expect(await page.locator('#feed li[data-kind=join]').count()).toBe(2);
      expect(await page.locator('#feed li[data-kind=epoch]').count()).toBe(3);
      await page.screenshot({ path: join(SHOTS, 'dashboard-finished.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await coordinator.close();
      await page.close();
    }
  });

  it('shows a worker label holding HTML and control characters as inert text', async () => {
    const page = await browser.newPage({ viewport: VIEWPORTS.desktop });
    const errors = collectPageErrors(page);
    const token = secret();
    const label = '<img src=x onerror="window.pwned=1"><b>bold</b>\x1b[31m\x07\u202e';
    let checked = false;
    const coordinator: Coordinator = await Coordinator.start({
      config: originConfig('config_1', { num_epoches: 1 }),
      data,
      token,
      pushIntervalMs: 100,
      hooks: {
        onStep: async (info) => {
          if (info.step !== 20) return;
          await page.goto(coordinator.dashboardUrl);
          const cell = page.locator('#workers tbody td.label');
          await expect.poll(() => cell.count(), { timeout: 20_000 }).toBe(1);
          // Markup stays text; the escape, the bell and the bidi override are gone (core's inert()).
          expect(await cell.textContent()).toBe('<img src=x onerror="window.pwned=1"><b>bold</b>[31m');
          expect(await page.locator('#workers img, #workers b, #feed img, #feed b').count()).toBe(0);
          expect(await page.locator('#feed li[data-kind=join] .text').textContent()).toContain('<img src=x');
          expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
          checked = true;
        },
      },
    });
    const worker = startThreadWorker(coordinator.url, token, label);
    try {
      await coordinator.run();
      await worker.done;
      expect(checked).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await coordinator.close();
      await page.close();
    }
  });
});
