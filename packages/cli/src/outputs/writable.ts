/**
 * Whether a run could write its outputs under --out, found out before the data is loaded and
 * without creating anything: a run that then fails (bad data, a taken port) leaves no empty
 * folders behind. Each output creates its folder when it first writes.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { badOption } from '../errors.js';

/** The folders a run writes into, under --out. */
export const OUTPUT_FOLDERS = ['logs', 'assets', 'models', 'checkpoints'] as const;

/** Throws BAD_OPTION naming --out when one of the output folders could not be created or written. */
export function checkWritable(out: string): void {
  for (const sub of OUTPUT_FOLDERS) {
    const target = resolve(out, sub);
    // The nearest folder that exists decides: the rest would be created inside it.
    let dir = target;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    let why: string | undefined;
    if (!statSync(dir).isDirectory()) why = `${dir} is a file, not a folder`;
    else {
      try {
        accessSync(dir, constants.W_OK | constants.X_OK);
      } catch (e) {
        why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      }
    }
    if (why) throw badOption(`--out ${out}: cannot create ${sub}/ there (${why}); choose a folder you can write to`);
  }
}
