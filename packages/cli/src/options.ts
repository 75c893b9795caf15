/** Parsers for command-line option values; each failure is a BAD_OPTION naming the flag. */
import { readFileSync } from 'node:fs';

import { MnistLrError, type FitMode } from '@mnist-lr/core/engine';

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

/** A commander argument parser accepting a decimal number in [0, 1] ("0.1", "1", ".5"). */
export function fractionOption(flag: string): (raw: string) => number {
  return (raw: string): number => {
    const text = raw.trim();
    const value = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= 0 && value <= 1)) throw badOption(`${flag} must be a fraction in [0, 1], got ${JSON.stringify(raw)}`);
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

/** Parser of `predict --fit`: "auto" or "always" (see core's `preprocess`). */
export function fitMode(raw: string): FitMode {
  if (raw === 'auto' || raw === 'always') return raw;
  throw badOption(`--fit must be "auto" or "always", got ${JSON.stringify(raw)}`);
}

/** The formats `mnist-lr export` writes. */
export const EXPORT_FORMATS = ['onnx', 'npz', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Parser of `export --format`. */
export function exportFormat(raw: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(raw)) return raw as ExportFormat;
  throw badOption(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(raw)}`);
}
