// Replaces tsc's dist/outputs/vega.js (re-exports of vega and vega-lite) with one bundled ES
// module holding both and their dependencies: see src/outputs/vega.ts for why. Their licence
// notices are kept at the end of the file.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  entryPoints: [`${root}src/outputs/vega.ts`],
  outfile: `${root}dist/outputs/vega.js`,
  allowOverwrite: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
