/**
 * The pages' files, built by esbuild at `pnpm build` time into dist/pages/ (see
 * scripts/build-pages.mjs) and read into memory once: a page needs nothing from another host.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/pages of this package, from src/http (tests) and dist/http (built) alike. */
export const PAGES_DIR = fileURLToPath(new URL('../../dist/pages/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  body: Buffer;
  type: string;
}

/** The pages this package builds. */
export type PageName = 'dashboard' | 'draw' | 'join';

/** URL path → file, for every file of a built page (its index.html at '/'); empty when the page was not built. */
export function loadPage(page: PageName, dir = PAGES_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(join(dir, page));
  } catch {
    return assets;
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    assets.set(name === 'index.html' ? '/' : `/${name}`, { body: readFileSync(join(dir, page, name)), type });
  }
  return assets;
}

/** The login form's stylesheet, or undefined when the pages were not built. */
export function loginStylesheet(dir = PAGES_DIR): Asset | undefined {
  try {
    return { body: readFileSync(join(dir, 'login.css')), type: TYPES['.css']! };
  } catch {
    return undefined;
  }
}
