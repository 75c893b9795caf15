import { MnistLrError } from '@mnist-lr/core/engine';
import { describe, expect, it } from 'vitest';

import { asUsage, badOption, exitCodeOf, formatError, markUsage } from './errors.js';
import { integerOption } from './options.js';

describe('error boundary', () => {
  it('prints a coded error as one line, without a stack', () => {
    const e = new MnistLrError('MODEL_BAD_FILE', 'm.json: not a model (invalid JSON: "garbage\n" is not valid)');
    expect(formatError(e)).toBe('error [MODEL_BAD_FILE]: m.json: not a model (invalid JSON: "garbage " is not valid)');
  });

  it('prints the stack of anything else: that is a bug', () => {
    const text = formatError(new TypeError('x is undefined'));
    expect(text).toMatch(/^unexpected error/);
    expect(text).toContain('TypeError: x is undefined');
    expect(text).toMatch(/\n\s+at /);
  });

  it('exits 2 for usage and config errors, 1 for failures while working', () => {
    expect(exitCodeOf(badOption('--epochs bad'))).toBe(2);
    expect(exitCodeOf(new MnistLrError('CONFIG_UNKNOWN_KEY', 'x'))).toBe(2);
    expect(exitCodeOf(new MnistLrError('NON_FINITE', 'x'))).toBe(1);
    expect(exitCodeOf(new MnistLrError('FILE_UNREADABLE', 'x'))).toBe(1);
    expect(exitCodeOf(new Error('bug'))).toBe(1);
  });

  it('makes errors from reading named files usage errors', () => {
    let caught: unknown;
    try {
      asUsage(() => {
        throw new MnistLrError('FILE_UNREADABLE', 'config.json: missing');
      });
    } catch (e) {
      caught = e;
    }
    expect(exitCodeOf(caught)).toBe(2);
    expect(exitCodeOf(markUsage(new MnistLrError('MODEL_BAD_FILE', 'x')))).toBe(2);
    expect(asUsage(() => 7)).toBe(7);
  });
});

describe('integerOption', () => {
  const epochs = integerOption('--epochs', 1, 100);

  it('accepts decimal integers in range', () => {
    expect(epochs('15')).toBe(15);
    expect(epochs(' 1 ')).toBe(1);
    expect(epochs('100')).toBe(100);
  });

  it.each(['abc', '', '1.5', '1e2', '0x10', '0', '101', '-3', '99999999999999999999'])('refuses %j naming the flag', (raw) => {
    expect(() => epochs(raw)).toThrow(/^--epochs must be an integer in \[1, 100\], got /);
    try {
      epochs(raw);
    } catch (e) {
      expect(exitCodeOf(e)).toBe(2);
    }
  });
});
