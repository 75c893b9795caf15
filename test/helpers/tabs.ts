/**
 * Tabs of two real browsers, driven the same way: Debian's Chromium through playwright-core (as
 * helpers/browser.ts launches it) and Debian's Firefox ESR (SpiderMonkey) through puppeteer-core
 * over WebDriver BiDi. Neither library downloads a browser. Where one is missing its tests skip
 * with the reason on a developer's machine, and fail in CI, which installs both (requires.ts).
 */
import { existsSync } from 'node:fs';

import type { Browser as PlaywrightBrowser, BrowserContext, Page as PlaywrightPage } from 'playwright-core';
import puppeteer, { type Browser as PuppeteerBrowser, type Page as PuppeteerPage } from 'puppeteer-core';

import { afterAll, beforeAll } from 'vitest';
import { CHROMIUM_PATH, collectPageErrors, launchBrowser } from './browser.js';
import { skipFor } from './requires.js';

/** Where Firefox is looked for: $FIREFOX_PATH, then Debian's firefox-esr. */
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export type BrowserName = 'Chromium' | 'Firefox';
export const BROWSERS: readonly BrowserName[] = ['Chromium', 'Firefox'];

/** Why `name` cannot run here, saying how to install it, or undefined when it can. */
export function browserMissing(name: BrowserName): string | undefined {
  if (name === 'Chromium' && !existsSync(CHROMIUM_PATH)) return `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (name === 'Firefox' && !existsSync(FIREFOX_PATH)) return `no Firefox at ${FIREFOX_PATH} (apt-get install firefox-esr, or set FIREFOX_PATH)`;
  return undefined;
}

/** Throws, saying how to install it, when `name` is not on this machine. */
export function requireBrowser(name: BrowserName): void {
  const missing = browserMissing(name);
  if (missing) throw new Error(missing);
}

export interface Viewport {
  width: number;
  height: number;
}

/** One tab, whichever browser it is in. */
export interface Tab {
  readonly browser: BrowserName;
  goto(url: string): Promise<void>;
  /** Runs `fn` in the page and returns its (serialisable) result. */
  evaluate<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Runs `fn(arg)` in the page. */
  evaluateWith<A, T>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
  setViewport(v: Viewport): Promise<void>;
  screenshot(path: string, fullPage?: boolean): Promise<void>;
  close(): Promise<void>;
  /** Every URL the tab requested (pages, scripts, fetches) or opened a WebSocket to, in order. */
  readonly urls: string[];
  /** Errors the page wrote to its console, and uncaught exceptions. */
  readonly errors: string[];
}

export interface Browser {
  readonly name: BrowserName;
  open(viewport: Viewport): Promise<Tab>;
  close(): Promise<void>;
}

/**
 * For the tests of one browser in a describe block: whether they skip (the browser is missing;
 * see skipFor), and the browser, launched before them and closed after.
 */
export function useBrowser(name: BrowserName, suite: string): { skip: boolean; browser: () => Browser } {
  const skip = skipFor(`${suite} in ${name}`, browserMissing(name));
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!skip) browser = await launch(name);
  });
  afterAll(async () => browser?.close());
  return { skip, browser: () => browser! };
}

export async function launch(name: BrowserName): Promise<Browser> {
  requireBrowser(name);
  return name === 'Chromium' ? chromium(await launchBrowser()) : firefox(await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true }));
}

function chromium(browser: PlaywrightBrowser): Browser {
  return {
    name: 'Chromium',
    async open(viewport) {
      const context: BrowserContext = await browser.newContext({ viewport });
      const page: PlaywrightPage = await context.newPage();
      const urls: string[] = [];
      const errors = collectPageErrors(page);
      // The context sees the requests of the page's workers too.
      context.on('request', (r) => void urls.push(r.url()));
      page.on('websocket', (ws) => void urls.push(ws.url()));
      page.on('worker', (w) => void urls.push(w.url()));
      return {
        browser: 'Chromium',
        urls,
        errors,
        goto: async (url) => void (await page.goto(url)),
        evaluate: (fn) => page.evaluate(fn),
        evaluateWith: (fn, arg) => page.evaluate(fn, arg),
        setViewport: (v) => page.setViewportSize(v),
        screenshot: async (path, fullPage = false) => void (await page.screenshot({ path, fullPage })),
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

function firefox(browser: PuppeteerBrowser): Browser {
  return {
    name: 'Firefox',
    async open(viewport) {
      const page: PuppeteerPage = await browser.newPage();
      await page.setViewport(viewport);
      const urls: string[] = [];
      const errors = collectPageErrors(page);
      page.on('request', (r) => void urls.push(r.url()));
      return {
        browser: 'Firefox',
        urls,
        errors,
        goto: async (url) => void (await page.goto(url)),
        evaluate: (fn) => page.evaluate(fn) as never,
        evaluateWith: (fn, arg) => page.evaluate(fn, arg) as never,
        setViewport: (v) => page.setViewport(v),
        screenshot: async (path, fullPage = false) => void (await page.screenshot({ path, fullPage })),
        close: () => page.close(),
      };
    },
    close: () => browser.close(),
  };
}

/** The text of element #`id` in the tab ('' when it has none). */
export function textOf(tab: Tab, id: string): Promise<string> {
  return tab.evaluateWith((i) => document.getElementById(i)?.textContent ?? '', id);
}

/** Polls `read` until `done` holds of its value; rejects after `timeoutMs`, naming `what` and the last value. */
export async function waitUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
