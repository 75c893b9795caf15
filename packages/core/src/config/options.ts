/**
 * Checks of the options object a library entry point is given (`train()`, `Coordinator.start()`,
 * `runWorker()`): the TypeScript types say what is allowed, but a JavaScript caller is told only
 * at run time. A bad option is a BAD_OPTION naming the entry point and the key, as a bad flag is
 * on the command line; a bad config is the config schema's own error (see `checkConfig`).
 */
import { MnistLrError } from '../errors.js';
import type { ConfigInput, TrainConfig } from '../types.js';
import { isValidatedConfig, parseConfig } from './schema.js';

/** What one option must be when it is present (or always, with `required`). */
export type OptionRule =
  | { kind: 'integer'; min: number; max: number; required?: boolean }
  | { kind: 'number'; min: number; max: number; required?: boolean }
  | { kind: 'string'; nonEmpty?: boolean; required?: boolean }
  | { kind: 'function' | 'object' | 'bytes' | 'boolean'; required?: boolean };

/**
 * Throws BAD_OPTION for the first option (in `rules` order) that breaks its rule; returns the
 * options as a record. `where` names the entry point in messages (`"Coordinator.start()"`).
 * Keys not in `rules` are left to the entry point.
 */
export function checkOptions(value: unknown, where: string, rules: Record<string, OptionRule>): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MnistLrError('BAD_OPTION', `${where} takes an options object, got ${kindOf(value)}`);
  }
  const options = value as Record<string, unknown>;
  for (const [key, rule] of Object.entries(rules)) {
    const v = options[key];
    if (v === undefined) {
      if (rule.required) throw new MnistLrError('BAD_OPTION', `${where}: option "${key}" is required (${expected(rule)})`);
      continue;
    }
    if (!fits(v, rule)) {
      throw new MnistLrError('BAD_OPTION', `${where}: option "${key}" must be ${expected(rule)}, got ${kindOf(v)}`);
    }
  }
  return options;
}

/**
 * Validates a config given to a library entry point and fills the optional keys with their
 * defaults: the schema the command line applies to a config file, so the same value gives the
 * same coded error (CONFIG_MISSING_KEY, CONFIG_BAD_TYPE, ...) naming the key, with `where` in
 * place of the file name. A config that is already complete comes back equal; one that
 * parseConfig or loadConfig made (frozen, so still valid) comes back as it is, unchecked again.
 */
export function checkConfig(config: ConfigInput | TrainConfig | unknown, where: string): TrainConfig {
  if (isValidatedConfig(config)) return config;
  if (config === undefined) {
    throw new MnistLrError('CONFIG_MISSING_KEY', `${where}: option "config" is required (an object with the origin's seven keys: num_epoches, batch_size, learning_rate, learning_decay, decay_factor, momentum, mu)`);
  }
  return parseConfig(config, `${where} config`);
}

function fits(v: unknown, rule: OptionRule): boolean {
  switch (rule.kind) {
    case 'integer':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= rule.min && v <= rule.max;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && v >= rule.min && v <= rule.max;
    case 'string':
      return typeof v === 'string' && (!rule.nonEmpty || v.length > 0);
    case 'function':
      return typeof v === 'function';
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'bytes':
      return typeof v === 'string' || v instanceof Uint8Array;
    case 'boolean':
      return typeof v === 'boolean';
  }
}

function expected(rule: OptionRule): string {
  switch (rule.kind) {
    case 'integer':
      return `an integer in [${rule.min}, ${rule.max}]`;
    case 'number':
      return `a number in [${rule.min}, ${rule.max}]`;
    case 'string':
      return rule.nonEmpty ? 'a non-empty string' : 'a string';
    case 'function':
      return 'a function';
    case 'object':
      return 'an object';
    case 'bytes':
      return 'a string or a Buffer';
    case 'boolean':
      return 'true or false';
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v)}`;
  if (typeof v === 'number') return Number.isFinite(v) ? `the number ${v}` : String(v);
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (typeof v === 'function') return 'a function';
  return typeof v === 'object' ? 'an object' : typeof v;
}
