/**
 * Training configs: JSON files with the origin project's keys, spelled as it spelled them
 * (`num_epoches`), plus three optional extensions with defaults that change nothing.
 *
 * zod checks each value's type and range, in its tree-shakable form zod/mini: in core's bundle
 * that is 30 KB, loaded in about 12 ms, where full zod was 760 KB and 75 ms at every process
 * start. We do not surface zod's issues: a user gets one line naming the file, the key, what was
 * expected and what was found. Problems are reported one at a time in a fixed order (unknown
 * keys, missing keys, types, ranges) so the same bad file always yields the same message.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as z from 'zod/mini';
import { MnistLrError } from '../errors.js';
import type { TrainConfig } from '../types.js';

type Key = keyof TrainConfig;

/** Integer-ness is checked as part of the type, so 1e20 passes here and fails the range. */
const integer = z.number().check(z.refine(Number.isInteger)); // z.number() already rejects NaN/±Infinity
const finite = z.number();
/** The origin used 0/1 switches; JSON booleans are accepted too and normalised to 0/1. */
const flag = z.pipe(
  z.union([z.number(), z.boolean()]),
  z.transform((v: number | boolean) => (v === true ? 1 : v === false ? 0 : v)),
);

/** What the config schema says about one key (for help texts and docs). */
export interface ConfigDoc {
  required: boolean;
  /** Only for optional keys. */
  default?: number;
  /** Reads after "must be": used in error messages and as the README's range column. */
  range: string;
  doc: string;
}

interface Rule extends ConfigDoc {
  /** What `type` accepts, reading after "must be". */
  expected: string;
  type: z.ZodMiniType<number>;
  bounds: z.ZodMiniType<number>;
}

/**
 * Bounds of the integer keys the command line also takes as flags (--epochs, --seed): stated here
 * once, for the schema, its messages and docs, and the flags' parsers.
 */
export const CONFIG_LIMITS = {
  num_epoches: { min: 1, max: 100_000 },
  batch_size: { min: 1, max: 60_000 },
  seed: { min: 0, max: 2 ** 32 - 1 },
} as const;

/** "an integer in [min, max]", the range text of an integer key. */
const intRange = ({ min, max }: { min: number; max: number }): string => `an integer in [${min}, ${max}]`;

const INT = 'an integer';
const NUM = 'a finite number';
const FLAG = '0 or 1 (or true/false)';

/** The one table: validation, error messages and docs all come from it. Order = TrainConfig's. */
const RULES: Record<Key, Rule> = {
  num_epoches: {
    required: true,
    range: intRange(CONFIG_LIMITS.num_epoches),
    doc: 'Number of passes over the training set (origin spelling).',
    expected: INT,
    type: integer,
    bounds: z.number().check(z.minimum(CONFIG_LIMITS.num_epoches.min), z.maximum(CONFIG_LIMITS.num_epoches.max)),
  },
  batch_size: {
    required: true,
    range: intRange(CONFIG_LIMITS.batch_size),
    doc: 'Samples per minibatch; the last, smaller batch of an epoch is kept.',
    expected: INT,
    type: integer,
    bounds: z.number().check(z.minimum(CONFIG_LIMITS.batch_size.min), z.maximum(CONFIG_LIMITS.batch_size.max)),
  },
  learning_rate: {
    required: true,
    range: 'a number in (0, 1000]',
    doc: 'Initial learning rate.',
    expected: NUM,
    type: finite,
    bounds: z.number().check(z.gt(0), z.maximum(1000)),
  },
  learning_decay: {
    required: true,
    range: FLAG,
    doc: '1: multiply the learning rate by decay_factor after an epoch whose accuracy rose by < 0.001. 0: off.',
    expected: FLAG,
    type: flag,
    bounds: z.union([z.literal(0), z.literal(1)]),
  },
  decay_factor: {
    required: true,
    range: 'a number in (0, 1]',
    doc: 'Factor of the decay rule (validated even when learning_decay is 0).',
    expected: NUM,
    type: finite,
    bounds: z.number().check(z.gt(0), z.maximum(1)),
  },
  momentum: {
    required: true,
    range: FLAG,
    doc: '1: SGD with momentum (v ← mu·v + lr·g; w ← w − v). 0: plain SGD.',
    expected: FLAG,
    type: flag,
    bounds: z.union([z.literal(0), z.literal(1)]),
  },
  mu: {
    required: true,
    range: 'a number in [0, 1)',
    doc: 'Momentum coefficient (validated even when momentum is 0).',
    expected: NUM,
    type: finite,
    bounds: z.number().check(z.minimum(0), z.lt(1)),
  },
  seed: {
    required: false,
    default: 0,
    range: intRange(CONFIG_LIMITS.seed),
    doc: 'Extension. Seed of the epoch permutations and of the validation split.',
    expected: INT,
    type: integer,
    bounds: z.number().check(z.minimum(CONFIG_LIMITS.seed.min), z.maximum(CONFIG_LIMITS.seed.max)),
  },
  validation_split: {
    required: false,
    default: 0,
    range: 'a number in [0, 0.5)',
    doc: 'Extension. Fraction of the training set held out for validation; 0: none.',
    expected: NUM,
    type: finite,
    bounds: z.number().check(z.minimum(0), z.lt(0.5)),
  },
  weight_decay: {
    required: false,
    default: 0,
    range: 'a number in [0, 1]',
    doc: 'Extension. L2 weight decay λ on W (not b): g ← g + λ·W.',
    expected: NUM,
    type: finite,
    bounds: z.number().check(z.minimum(0), z.maximum(1)),
  },
};

export const CONFIG_KEYS: readonly Key[] = Object.keys(RULES) as Key[];

/** RULES without the zod schemas, for the README and the CLI's help. */
export const CONFIG_DOCS: Record<Key, ConfigDoc> = Object.fromEntries(
  CONFIG_KEYS.map((k) => {
    const { required, default: def, range, doc } = RULES[k];
    return [k, def === undefined ? { required, range, doc } : { required, default: def, range, doc }];
  }),
) as Record<Key, ConfigDoc>;

/** `config_sample` → `sample`, as the origin names its plots (`loss_sample.png`). */
export function shortName(name: string): string {
  return name.startsWith('config_') ? name.slice('config_'.length) : name;
}

/**
 * Configs this module validated and completed. They are frozen, so they stay valid: an entry
 * point given one (a command passes the config it read at its edge) need not check it again.
 */
const VALIDATED = new WeakSet<object>();

/** Whether `config` came out of parseConfig (frozen, so still valid). */
export function isValidatedConfig(config: unknown): config is TrainConfig {
  return typeof config === 'object' && config !== null && VALIDATED.has(config);
}

/**
 * Validates an already-parsed JSON value and completes it: the optional keys get their defaults
 * and the 0/1 switches given as booleans become numbers. `file` is only used in error messages.
 * The result is frozen. Throws CONFIG_UNKNOWN_KEY, CONFIG_MISSING_KEY, CONFIG_BAD_TYPE or
 * CONFIG_OUT_OF_RANGE.
 */
export function parseConfig(value: unknown, file: string): TrainConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MnistLrError(
      'CONFIG_BAD_TYPE',
      `${file}: a config must be a JSON object of keys to numbers, got ${describe(value)}`,
    );
  }
  const obj = value as Record<string, unknown>;
  // Object.hasOwn, not `in`: JSON may carry keys like "constructor" or "__proto__".
  const isKnown = (k: string): k is Key => Object.hasOwn(RULES, k);

  for (const k of Object.keys(obj)) {
    if (!isKnown(k)) {
      const near = nearestKey(k);
      const hint = near === undefined ? '' : ` (did you mean "${near}"?)`;
      throw new MnistLrError(
        'CONFIG_UNKNOWN_KEY',
        `${file}: unknown key "${k}"${hint}. Valid keys: ${CONFIG_KEYS.join(', ')}`,
      );
    }
  }
  for (const k of CONFIG_KEYS) {
    const rule = RULES[k];
    if (rule.required && !Object.hasOwn(obj, k)) {
      throw new MnistLrError(
        'CONFIG_MISSING_KEY',
        `${file}: missing required key "${k}" (${rule.range}); the origin's seven keys are required even when unused`,
      );
    }
  }

  const typed: Partial<Record<Key, number>> = {};
  for (const k of CONFIG_KEYS) {
    if (!Object.hasOwn(obj, k)) continue;
    const rule = RULES[k];
    const r = rule.type.safeParse(obj[k]);
    if (!r.success) {
      throw new MnistLrError(
        'CONFIG_BAD_TYPE',
        `${file}: "${k}" must be ${rule.expected}, got ${describe(obj[k])}`,
      );
    }
    typed[k] = r.data;
  }

  const out: Record<string, number> = {};
  for (const k of CONFIG_KEYS) {
    const rule = RULES[k];
    const v = typed[k] ?? rule.default ?? 0; // required keys are present by now
    if (!rule.bounds.safeParse(v).success) {
      throw new MnistLrError('CONFIG_OUT_OF_RANGE', `${file}: "${k}" must be ${rule.range}, got ${v}`);
    }
    out[k] = v;
  }
  VALIDATED.add(Object.freeze(out));
  return out as unknown as TrainConfig;
}

/**
 * Reads, parses and validates a config file; `name` is its basename without `.json`. `overrides`
 * (a command line's --epochs, --seed) replace the file's values before the one validation.
 */
export function loadConfig(path: string, overrides: Partial<TrainConfig> = {}): { config: TrainConfig; name: string; path: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MnistLrError(
      'FILE_UNREADABLE',
      `${path}: cannot read the config file (${oneLine(errorMessage(e))}); check the path and its permissions`,
      { cause: e },
    );
  }
  let json: unknown;
  try {
    // A BOM is invisible in editors and makes JSON.parse fail on character 0.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new MnistLrError(
      'CONFIG_BAD_JSON',
      `${path}: not valid JSON (${oneLine(errorMessage(e))})`,
      { cause: e },
    );
  }
  const given = typeof json === 'object' && json !== null && !Array.isArray(json) ? { ...json, ...overrides } : json;
  return { config: parseConfig(given, path), name: basename(path, '.json'), path };
}

/** Case and '-'/'_' slips count as nothing; beyond that, suggest only when about a third matches. */
function nearestKey(unknown: string): Key | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[-\s]/g, '_');
  let best: Key | undefined;
  let bestDist = Infinity;
  for (const k of CONFIG_KEYS) {
    const d = damerau(norm(unknown), k);
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  // A fixed threshold would pair short unrelated keys ("lr" → "mu"); scale it with the key.
  return best !== undefined && bestDist <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** Optimal-string-alignment distance: Levenshtein plus swaps of two adjacent characters. */
function damerau(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [];
    for (let j = 0; j <= b.length; j++) {
      if (i === 0 || j === 0) {
        row.push(i + j);
        continue;
      }
      const prev = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/** How a wrong value reads in a message: its JSON type, and the value when short. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string': {
      const s = JSON.stringify(v);
      return `the string ${s.length > 40 ? `${s.slice(0, 37)}..."` : s}`;
    }
    case 'boolean':
      return `the boolean ${v}`;
    case 'number':
      return Number.isFinite(v) ? `the number ${v}` : String(v);
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Node's JSON errors quote the offending source, which may span lines; messages are one line. */
function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
