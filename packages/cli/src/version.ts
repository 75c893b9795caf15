import { readFileSync } from 'node:fs';

/** The version of @mnist-lr/cli, read from its package.json (one level above src/ and dist/). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
