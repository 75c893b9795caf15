/** Parsers for command-line option values; each failure is a BAD_OPTION naming the flag. */
import { readFileSync } from 'node:fs';

import { MnistLrError } from '@mnist-lr/core';

import { badOption, markUsage } from './errors.js';

/**
 * A commander argument parser accepting a decimal integer in [min, max]. "1e3", "3.0", "0x10"
 * and "" are refused: an option value should read the way it is meant.
 */
export function integerOption(flag: string, min: number, max: number): (raw: string) => number {
  return (raw: string): number => {
    const text = raw.trim();
    const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw badOption(`${flag} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    }
    return value;
  };
}

/** More local worker threads than this would only contend for the same cores. */
export const WORKERS_MAX = 256;

/** The bytes of the file a flag names; FILE_UNREADABLE (a usage error) naming the flag otherwise. */
export function readOptionFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw markUsage(new MnistLrError('FILE_UNREADABLE', `${flag} ${file}: cannot read it (${why})`, { cause: e }));
  }
}
