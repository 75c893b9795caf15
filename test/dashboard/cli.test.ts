/**
 * The dashboard as the command serves it: `train --workers 0 --dashboard` and `train --workers 2
 * --worker-mode process` print its address in their first lines (runs with a coordinator the join
 * link right after, which `--no-join` leaves out); when the run ends, /status and
 * the page show the confusion matrix, where the outputs were written and a link to the model's
 * draw page (served under /draw/ on the same port), for as long as --linger keeps them up;
 * Ctrl-C ends the wait.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipFor } from '../helpers/requires.js';

import { afterAll, describe, expect, it } from 'vitest';

import { statusSchema, type Status } from '@mnist-lr/watch/status';
import { loadMnist, loadModel, predict } from '@mnist-lr/core';

import { browserMissing, collectPageErrors, launchBrowser, VIEWPORTS } from '../helpers/browser.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/cluster.js';

const SHOTS = join(ROOT, 'test-output');
/** The token `coordinator` reads from its environment (train makes its own). */
const TOKEN = `token-${Math.random().toString(36).slice(2)}`;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  out: string;
  output: () => string;
  exited: Promise<number | null>;
}

function train(...args: string[]): Running {
  return command('train', ...args);
}

function command(name: string, ...args: string[]): Running {
  const out = mkdtempSync(join(tmpdir(), 'mnist-lr-dash-'));
  dirs.push(out);
  const child = spawn(process.execPath, [BIN, name, '--config', 'configs/config_1.json', '--epochs', '1', '--out', out, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MNIST_LR_TOKEN: TOKEN } });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, output: () => text, exited };
}

/** The dashboard address the command printed, and on which line. */
async function dashboardUrl(run: Running): Promise<{ url: string; line: number }> {
  await waitFor(() => /^dashboard: \S+/m.test(run.output()), 60_000, 'the dashboard address');
  const lines = run.output().split('\n');
  const line = lines.findIndex((l) => l.startsWith('dashboard: '));
  return { url: /^dashboard: (\S+)/.exec(lines[line]!)![1]!, line };
}

/** /status once `done` holds of it, validated by its schema. */
async function statusWhen(url: string, done: (s: Status) => boolean): Promise<Status> {
  const until = Date.now() + 90_000;
  for (;;) {
    const s = statusSchema.parse(await (await fetch(new URL('/status', url))).json());
    if (done(s)) return s;
    if (Date.now() > until) throw new Error(`timed out waiting on /status; last state ${s.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('train --dashboard', () => {
  it('in-process: the address among the first lines; at the end the confusion matrix and the outputs; Ctrl-C ends the linger', async () => {
    const run = train('--workers', '0', '--dashboard', '--linger', '120');
    try {
      const { url, line } = await dashboardUrl(run);
      expect(line, run.output()).toBeLessThan(3);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const s = await statusWhen(url, (x) => x.outputs !== null);
      expect(s.state).toBe('finished');
      expect(s.run).toMatchObject({ config: { name: 'config_1', path: 'configs/config_1.json' }, engine: 'in-process' });
      expect(s.confusion!.flat().reduce((a, b) => a + b, 0)).toBe(10_000);
      const diagonal = s.confusion!.reduce((n, row, i) => n + row[i]!, 0);
      expect(diagonal / 10_000).toBe(s.epochs[0]!.testAccuracy);
      expect(s.outputs!.model).toBe(join(run.out, 'models/config_1.model.json'));
      expect(s.counters.checkpoints).toBe(1);
      // The finished view links the model's draw page, served on the dashboard's port under /draw/.
      expect(s.links).toEqual([{ label: 'draw page', href: '/draw/' }]);
      const redirect = await fetch(new URL('/draw', url), { redirect: 'manual' });
      expect(redirect.headers.get('location')).toBe('/draw/');
      const page = await fetch(new URL('/draw/', url));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      const html = await page.text();
      expect(html).toContain('src="draw.js"');
      expect((await fetch(new URL('draw.js', new URL('/draw/', url)))).status).toBe(200);
      const model = loadModel(s.outputs!.model!);
      const test = loadMnist().test;
      for (const i of [0, 1, 2]) {
        const pixels = test.images.subarray(i * 784, (i + 1) * 784);
        const rows = Array.from({ length: 28 }, (_, y) => Array.from(pixels.subarray(y * 28, y * 28 + 28)));
        // The page posts to its relative URL 'predict', which resolves under /draw/.
        const r = await fetch(new URL('predict', new URL('/draw/', url)), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rows) });
        expect(r.status).toBe(200);
        expect(((await r.json()) as { label: number }).label).toBe(predict(model, pixels));
      }
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it.skipIf(skipFor('the dashboard page test of the command', browserMissing()))('with 2 worker processes: the page ends with the confusion matrix and where the outputs are', async () => {
    const run = train('--workers', '2', '--worker-mode', 'process', '--linger', '120');
    const browser = await launchBrowser();
    try {
      const { url, line } = await dashboardUrl(run);
      expect(line, run.output()).toBeLessThan(4);
      const page = await browser.newPage({ viewport: VIEWPORTS.desktop });
      const errors = collectPageErrors(page);
      await page.goto(url);
      await expect.poll(() => page.locator('#finished').isVisible(), { timeout: 90_000 }).toBe(true);
      expect(await page.locator('#confusion tbody tr').count()).toBe(10);
      expect(await page.locator('#outputs dd').allTextContents()).toContain(join(run.out, 'models/config_1.model.json'));
      expect(await page.locator('#state').textContent()).toBe('finished');
      // The coordinator's port serves the model's draw page too, linked from the finished view.
      expect(await page.locator('#outputs a').getAttribute('href')).toBe('/draw/');
      expect((await fetch(new URL('/draw/', url))).status).toBe(200);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'dashboard-finished.png'), fullPage: true });
      expect(errors).toEqual([]);
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
      await browser.close();
    }
  });
});

describe('the join link', () => {
  /** The join link printed after the dashboard's address, and on which line. */
  async function joinLink(run: Running): Promise<{ url: string; line: number }> {
    await waitFor(() => /^(?:coordinator: )?join from a browser: \S+/m.test(run.output()), 60_000, 'the join link');
    const lines = run.output().split('\n');
    const line = lines.findIndex((l) => /^join from a browser: /.test(l));
    return { url: /^join from a browser: (\S+)/.exec(lines[line]!)![1]!, line };
  }

  it('is among the first lines of `coordinator` and `train --workers 2`, after the dashboard, without the token; --no-join serves none', async () => {
    for (const run of [command('coordinator', '--port', '0'), train('--workers', '2')]) {
      try {
        const dashboard = await dashboardUrl(run);
        const link = await joinLink(run);
        expect(link.line, run.output()).toBe(dashboard.line + 1);
        expect(link.url).toMatch(new RegExp(`^${dashboard.url}join/#[A-Za-z0-9_-]{43}$`));
        expect(run.output()).not.toContain(TOKEN);
        // The dashboard shows the same link, without a QR code: these listen on loopback only.
        expect(await (await fetch(new URL('/join-link', dashboard.url))).json()).toEqual({ url: link.url, reachable: false });
      } finally {
        run.child.kill('SIGKILL');
      }
    }
    const closed = command('coordinator', '--port', '0', '--no-join');
    try {
      const { url } = await dashboardUrl(closed);
      expect((await fetch(new URL('/join-link', url))).status).toBe(404);
      expect(closed.output()).not.toContain('join from a browser');
    } finally {
      closed.child.kill('SIGKILL');
    }
  });
});
