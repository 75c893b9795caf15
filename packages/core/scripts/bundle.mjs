// Builds dist/index.js, dist/engine.js and dist/protocol/index.js (the package's entry points) as ES module
// bundles with esbuild; tsc emits only the declarations. Run as separate files, core and zod were
// about 150 modules, which Node's ES module loader read, resolved and compiled one by one at every
// start of a process (`mnist-lr --version` included). The two entries share their common code
// through chunks, so a class is the same class whichever entry it is imported from. msgpackr stays
// external: it is an optional peer, loaded only with the protocol.
//
// dist/browser/index.js (the ./browser entry) is another bundle, for engines without Node's
// modules: built for the browser platform, where any `node:` import fails the build. msgpackr
// stays external there too; the page that bundles it picks msgpackr's browser build.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  entryPoints: { index: `${root}src/index.ts`, engine: `${root}src/engine.ts`, 'protocol/index': `${root}src/protocol/index.ts` },
  outdir: `${root}dist`,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['msgpackr'],
  legalComments: 'eof',
  sourcemap: true,
  logLevel: 'warning',
});
await build({
  entryPoints: { 'browser/index': `${root}src/browser/index.ts` },
  outdir: `${root}dist`,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['msgpackr'],
  legalComments: 'eof',
  sourcemap: true,
  logLevel: 'warning',
});
