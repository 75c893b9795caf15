/**
 * A browser tab's slice against a Node worker's, on the same machine: a coordinator with one worker
 * at a time, so that every slice is the whole batch, which is either an `mnist-lr worker` process
 * or a tab of Chromium or of Firefox on the coordinator's join page. A step is then one slice's
 * round trip (the task with its weights out, the sums back) and the coordinator's update, the same
 * for every worker: the ratio of step times is the ratio of slice times. Cells are interleaved in
 * rounds, so a slow spell of the machine hits every worker alike; medians are reported.
 *
 * The browsers are Debian's, driven by playwright-core (Chromium) and puppeteer-core over WebDriver
 * BiDi (Firefox), devDependencies of this package that download no browser; a browser that cannot
 * be started is left out, with the reason. Each keeps one profile for the whole section: the first
 * tab downloads the dataset, the others find it in the browser's cache, as a second visit does.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { parseConfig, type TrainingData } from '@mnist-lr/core/engine';
import { Coordinator } from '@mnist-lr/coordinator';

import { TOKEN_ENV } from '../token.js';
import { BIN } from './origin.js';
import { median, table } from './stats.js';
import { StepTimer } from './step-timer.js';

export interface BrowserBenchOptions {
  batches: number[];
  /** Measure each cell for about this long after warm-up, milliseconds. */
  budgetMs: number;
  rounds: number;
  log: (line: string) => void;
}

/** A browser as the section drives it: open a page at a URL, read its kernel, close it. */
interface Driven {
  name: string;
  open(url: string): Promise<{ kernel(): Promise<string>; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** What the join page shows as its kernel (an expression evaluated in the page). */
const KERNEL_TEXT = "document.getElementById('kernel')?.textContent ?? ''";

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

async function chromium(): Promise<Driven> {
  const { chromium: launcher } = await import('playwright-core');
  const browser = await launcher.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const context = await browser.newContext();
  return {
    name: `Chromium ${browser.version().split('.')[0]}`,
    async open(url) {
      const page = await context.newPage();
      await page.goto(url);
      return { kernel: async () => String(await page.evaluate(KERNEL_TEXT)), close: () => page.close() };
    },
    close: () => browser.close(),
  };
}

async function firefox(): Promise<Driven> {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
  const version = (await browser.version()).replace(/^firefox\//i, '').split('.')[0];
  return {
    name: `Firefox ${version}`,
    async open(url) {
      const page = await browser.newPage();
      await page.goto(url);
      return { kernel: async () => String(await page.evaluate(KERNEL_TEXT)), close: () => page.close() };
    },
    close: () => browser.close(),
  };
}

/** The browsers that start here, and why the others do not. */
async function browsers(log: (line: string) => void): Promise<{ driven: Driven[]; missing: string[] }> {
  const driven: Driven[] = [];
  const missing: string[] = [];
  for (const [name, start] of [['Chromium', chromium], ['Firefox', firefox]] as const) {
    try {
      driven.push(await start());
    } catch (e) {
      const why = `${name} could not be started (${(e as Error).message.split('\n')[0]})`;
      log(why);
      missing.push(why);
    }
  }
  return { driven, missing };
}

/** Median milliseconds per step of a coordinator whose one worker `start` starts (and returns how to stop). */
async function cell(data: TrainingData, batch: number, budgetMs: number, start: (coordinator: Coordinator, token: string) => Promise<() => Promise<void>>): Promise<number> {
  const config = parseConfig({ num_epoches: 1000, batch_size: batch, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
  const token = randomBytes(16).toString('hex');
  const abort = new AbortController();
  const timer = new StepTimer(budgetMs, () => abort.abort());
  const coordinator = await Coordinator.start({ config, data, token, minWorkers: 1, workerWaitMs: 120_000, signal: abort.signal, hooks: { onStep: () => timer.step() } });
  const stop = await start(coordinator, token);
  try {
    await coordinator.run();
  } finally {
    await coordinator.close();
    await stop();
  }
  return timer.cell().msPerStep;
}

export async function benchBrowser(data: TrainingData, options: BrowserBenchOptions): Promise<string> {
  const { driven, missing } = await browsers(options.log);
  const kernels = new Map<string, string>();
  try {
    const kinds = ['Node', ...driven.map((d) => d.name)];
    const cells = new Map<string, number[]>();
    for (let r = 0; r < options.rounds; r++) {
      for (const B of options.batches) {
        const node = await cell(data, B, options.budgetMs, async (c, token) => {
          const child = spawn(process.execPath, [BIN, 'worker', '--connect', c.url, '--quiet'], { env: { ...process.env, [TOKEN_ENV]: token }, stdio: 'ignore' });
          return async () => void child.kill('SIGKILL');
        });
        record(cells, `${B} Node`, node);
        for (const d of driven) {
          const ms = await cell(data, B, options.budgetMs, async (c) => {
            const tab = await d.open(c.joinUrl!);
            return async () => {
              kernels.set(d.name, await tab.kernel());
              await tab.close();
            };
          });
          record(cells, `${B} ${d.name}`, ms);
        }
        options.log(`round ${r + 1}, batch ${B}: ${kinds.map((k) => `${k} ${cells.get(`${B} ${k}`)!.at(-1)!.toFixed(3)} ms`).join(', ')}`);
      }
    }
    const rows: string[][] = [];
    for (const B of options.batches) {
      const base = median(cells.get(`${B} Node`)!);
      for (const k of kinds) {
        const ms = median(cells.get(`${B} ${k}`)!);
        rows.push([String(B), k === 'Node' ? `Node ${process.versions.node} (mnist-lr worker)` : `${k} tab (${kernels.get(k) ?? '?'} kernel)`, ms.toFixed(3), `${(ms / base).toFixed(2)}×`]);
      }
    }
    const note = missing.length ? `\n\nLeft out: ${missing.join('; ')}.` : '';
    return `${table(['batch', 'the one worker', 'ms per step = one slice (median)', '÷ Node'], rows)}${note}`;
  } finally {
    for (const d of driven) await d.close();
  }
}

function record(cells: Map<string, number[]>, key: string, ms: number): void {
  cells.set(key, [...(cells.get(key) ?? []), ms]);
}
