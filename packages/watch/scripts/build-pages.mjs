// Builds the pages this package serves into dist/pages/ with esbuild, one build for all of them:
// each page's script as one ES module (uPlot and the QR code encoder bundled into the dashboard's),
// its stylesheet, its HTML and icon, and the login form's stylesheet. The join page has a second
// script, its Web Worker (core's browser entry and msgpackr bundled in), an ES module too (module
// workers: Chrome 80, Firefox 114, Safari 15). Nothing is fetched from another host.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = `${root}pages/`;
const out = `${root}dist/pages/`;

const PAGES = {
  dashboard: { script: 'app', files: ['index.html', 'favicon.svg'] },
  draw: { script: 'draw', files: ['index.html', 'favicon.svg'] },
  join: { script: 'join', files: ['index.html', 'favicon.svg'] },
};

for (const [page, { script, files }] of Object.entries(PAGES)) {
  mkdirSync(`${out}${page}`, { recursive: true });
  await build({
    entryPoints: [`${src}${page}/${script}.ts`, `${src}${page}/${script}.css`],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    outdir: `${out}${page}`,
    logLevel: 'warning',
  });
  for (const file of files) copyFileSync(`${src}${page}/${file}`, `${out}${page}/${file}`);
}
await build({
  entryPoints: [`${src}join/worker.ts`],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outdir: `${out}join`,
  logLevel: 'warning',
});
await build({ entryPoints: [`${src}login.css`], bundle: true, minify: true, outdir: out, logLevel: 'warning' });
