import { describe, expect, it } from 'vitest';
import { MnistLrError } from '../errors.js';
import { checkConfig, checkOptions, type OptionRule } from './options.js';

const RULES: Record<string, OptionRule> = {
  url: { kind: 'string', nonEmpty: true, required: true },
  port: { kind: 'integer', min: 0, max: 65_535 },
  factor: { kind: 'number', min: 0, max: 1 },
  log: { kind: 'function' },
  tls: { kind: 'object' },
  ca: { kind: 'bytes' },
};

function refusal(value: unknown): string {
  try {
    checkOptions(value, 'f()', RULES);
  } catch (e) {
    expect(e).toBeInstanceOf(MnistLrError);
    expect((e as MnistLrError).code).toBe('BAD_OPTION');
    return (e as MnistLrError).message;
  }
  throw new Error('expected BAD_OPTION');
}

describe('checkOptions', () => {
  it('accepts what the rules allow and leaves absent optional keys alone', () => {
    const ok = { url: 'ws://h:1', port: 0, factor: 1, log: () => {}, tls: {}, ca: Buffer.from('x'), other: 1 };
    expect(checkOptions(ok, 'f()', RULES)).toBe(ok);
    expect(checkOptions({ url: 'x' }, 'f()', RULES)).toEqual({ url: 'x' });
  });

  it('names the entry point, the key, what it must be and what it got', () => {
    expect(refusal(null)).toBe('f() takes an options object, got null');
    expect(refusal([])).toBe('f() takes an options object, got an array');
    expect(refusal({})).toBe('f(): option "url" is required (a non-empty string)');
    expect(refusal({ url: '' })).toBe('f(): option "url" must be a non-empty string, got the string ""');
    expect(refusal({ url: 'x', port: 1.5 })).toBe('f(): option "port" must be an integer in [0, 65535], got the number 1.5');
    expect(refusal({ url: 'x', port: '80' })).toBe('f(): option "port" must be an integer in [0, 65535], got the string "80"');
    expect(refusal({ url: 'x', factor: Number.NaN })).toBe('f(): option "factor" must be a number in [0, 1], got NaN');
    expect(refusal({ url: 'x', log: 'yes' })).toBe('f(): option "log" must be a function, got the string "yes"');
    expect(refusal({ url: 'x', tls: [] })).toBe('f(): option "tls" must be an object, got an array');
    expect(refusal({ url: 'x', ca: 3 })).toBe('f(): option "ca" must be a string or a Buffer, got the number 3');
  });
});

describe('checkConfig', () => {
  const seven = { num_epoches: 1, batch_size: 10, learning_rate: 0.005, learning_decay: false, decay_factor: 0.75, momentum: 0, mu: 0.9 };

  it('completes the seven origin keys with the defaults, as a config file is completed', () => {
    expect(checkConfig(seven, 'f()')).toEqual({ ...seven, learning_decay: 0, seed: 0, validation_split: 0, weight_decay: 0 });
    const complete = checkConfig(seven, 'f()');
    expect(checkConfig(complete, 'f()')).toEqual(complete);
  });

  it('gives the schema\'s coded error with the entry point in place of the file', () => {
    expect(() => checkConfig({ ...seven, mu: 1 }, 'f()')).toThrow('f() config: "mu" must be a number in [0, 1), got 1');
    expect(() => checkConfig(undefined, 'f()')).toThrow(/^f\(\): option "config" is required/);
  });
});
