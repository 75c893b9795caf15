/**
 * A real headless browser for page tests: Debian's Chromium driven by playwright-core, which
 * downloads nothing. Tests that need it skip, with the reason printed, where it is missing.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Chromium is looked for: $CHROMIUM_PATH, then Debian's package. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why page tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

/**
 * Starts headless Chromium as root may (no sandbox) and without the background traffic that a
 * closed network refuses.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A message a page wrote to its console, as playwright and puppeteer both give it. */
interface ConsoleLike {
  type(): string;
  text(): string;
}

/**
 * What collectPageErrors needs of a page: both a playwright page (Chromium) and a puppeteer one
 * (Firefox, helpers/tabs.ts) have it, so one function serves both. Two types, each with one
 * signature, rather than one overloaded `on`: puppeteer's `on` is generic over its events, which
 * matches a single signature but not a set of overloads.
 */
export type ErrorEmitter = { on(event: 'console', listener: (message: ConsoleLike) => void): unknown } & { on(event: 'pageerror', listener: (error: unknown) => void): unknown };

/** Everything a page writes to its console as an error, and every uncaught exception in it. */
export function collectPageErrors(page: ErrorEmitter): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleLike) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e: unknown) => void errors.push(String(e)));
  return errors;
}

/** The two screen sizes a page is looked at in: a desktop and a phone. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
