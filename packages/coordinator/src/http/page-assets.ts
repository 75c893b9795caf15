/**
 * The page's files, built by esbuild at `pnpm build` time into dist/page/ (see
 * scripts/build-page.mjs) and read into memory once: the page needs nothing from another host.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/page of this package, from src/http (tests) and dist/http (built) alike. */
export const PAGE_DIR = fileURLToPath(new URL('../../dist/page/', import.meta.url));

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

/** URL path → file, for every file of the built page; empty when the page was not built. */
export function loadPageAssets(dir = PAGE_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return assets;
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name === 'index.html' ? '/' : `/${name}`, { body, type });
  }
  return assets;
}
