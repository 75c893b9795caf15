// Builds the live page (page/) into dist/page/ with esbuild: one ES module and one stylesheet,
// uPlot bundled in, so the page loads nothing from another host.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/page`;
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: `${root}page/app.ts` },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outdir: out,
  logLevel: 'warning',
});
await build({ entryPoints: { app: `${root}page/app.css` }, bundle: true, minify: true, outdir: out, logLevel: 'warning' });
for (const file of ['index.html', 'favicon.svg']) copyFileSync(`${root}page/${file}`, `${out}/${file}`);
