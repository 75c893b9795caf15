import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MnistLrError, type ErrorCode } from '../errors.js';
import { CONFIG_DOCS, CONFIG_KEYS, loadConfig, parseConfig, shortName } from './schema.js';

const FILE = 'configs/c.json';
const CONFIGS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../configs');

/** The origin's config_sample values: a valid base to break one key at a time. */
const BASE = {
  num_epoches: 15,
  batch_size: 10,
  learning_rate: 0.005,
  learning_decay: 0,
  decay_factor: 0.75,
  momentum: 0,
  mu: 0.9,
};

/** Runs `f`, expects a MnistLrError with `code`, and returns its message. */
function errorOf(f: () => unknown, code: ErrorCode): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MnistLrError);
    expect((e as MnistLrError).code).toBe(code);
    const msg = (e as MnistLrError).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

const parseErr = (value: unknown, code: ErrorCode): string =>
  errorOf(() => parseConfig(value, FILE), code);

describe('parseConfig', () => {
  it('fills defaults and returns exactly the TrainConfig keys, in order', () => {
    const c = parseConfig(BASE, FILE);
    expect(c).toEqual({ ...BASE, seed: 0, validation_split: 0, weight_decay: 0 });
    expect(Object.keys(c)).toEqual([...CONFIG_KEYS]);
  });

  it('keeps extension keys and reorders to the interface order', () => {
    const c = parseConfig({ weight_decay: 1e-4, seed: 7, validation_split: 0.1, ...BASE }, FILE);
    expect(c.seed).toBe(7);
    expect(c.validation_split).toBe(0.1);
    expect(c.weight_decay).toBe(1e-4);
    expect(Object.keys(c)).toEqual([...CONFIG_KEYS]);
  });

  it('normalises JSON booleans of the 0/1 switches', () => {
    const c = parseConfig({ ...BASE, learning_decay: true, momentum: false }, FILE);
    expect(c.learning_decay).toBe(1);
    expect(c.momentum).toBe(0);
    expect(parseConfig({ ...BASE, momentum: true }, FILE).momentum).toBe(1);
  });

  it('rejects a non-object', () => {
    for (const v of [[], null, 3, 'x']) {
      expect(parseErr(v, 'CONFIG_BAD_TYPE')).toMatch(/^configs\/c\.json: .*JSON object/);
    }
  });

  it('rejects unknown keys, suggesting the nearest valid one', () => {
    const { num_epoches, ...rest } = BASE;
    const msg = parseErr({ ...rest, num_epochs: num_epoches }, 'CONFIG_UNKNOWN_KEY');
    expect(msg).toContain(FILE);
    expect(msg).toContain('unknown key "num_epochs" (did you mean "num_epoches"?)');
    expect(msg).toContain(`Valid keys: ${CONFIG_KEYS.join(', ')}`);
    // Transposition, case and dash slips are close too.
    expect(parseErr({ ...BASE, mmoentum: 1 }, 'CONFIG_UNKNOWN_KEY')).toContain('"momentum"?');
    expect(parseErr({ ...BASE, 'Batch-Size': 1 }, 'CONFIG_UNKNOWN_KEY')).toContain('"batch_size"?');
  });

  it('suggests nothing when no key is close', () => {
    for (const k of ['lr', 'epochs', 'dropout']) {
      const msg = parseErr({ ...BASE, [k]: 1 }, 'CONFIG_UNKNOWN_KEY');
      expect(msg).toContain(`unknown key "${k}"`);
      expect(msg).not.toContain('did you mean');
    }
  });

  it('does not take Object.prototype members for keys', () => {
    expect(parseErr({ ...BASE, constructor: 1 }, 'CONFIG_UNKNOWN_KEY')).toContain('"constructor"');
    expect(parseErr(JSON.parse('{"__proto__": 1}'), 'CONFIG_UNKNOWN_KEY')).toContain('"__proto__"');
  });

  it('requires the seven origin keys, even the unused ones', () => {
    for (const k of ['decay_factor', 'mu', 'batch_size'] as const) {
      const partial: Record<string, number> = { ...BASE };
      delete partial[k];
      const msg = parseErr(partial, 'CONFIG_MISSING_KEY');
      expect(msg).toContain(FILE);
      expect(msg).toContain(`missing required key "${k}"`);
      expect(msg).toContain(CONFIG_DOCS[k].range);
    }
  });

  it('rejects wrong types, saying expected and got', () => {
    expect(parseErr({ ...BASE, batch_size: '10' }, 'CONFIG_BAD_TYPE')).toBe(
      `${FILE}: "batch_size" must be an integer, got the string "10"`,
    );
    expect(parseErr({ ...BASE, num_epoches: 1.5 }, 'CONFIG_BAD_TYPE')).toContain(
      '"num_epoches" must be an integer, got the number 1.5',
    );
    expect(parseErr({ ...BASE, learning_rate: null }, 'CONFIG_BAD_TYPE')).toContain(
      '"learning_rate" must be a finite number, got null',
    );
    expect(parseErr({ ...BASE, mu: [0.9] }, 'CONFIG_BAD_TYPE')).toContain('"mu"');
    expect(parseErr({ ...BASE, momentum: '1' }, 'CONFIG_BAD_TYPE')).toContain(
      '"momentum" must be 0 or 1 (or true/false), got the string "1"',
    );
    expect(parseErr({ ...BASE, seed: true }, 'CONFIG_BAD_TYPE')).toContain(
      '"seed" must be an integer, got the boolean true',
    );
    expect(parseErr({ ...BASE, weight_decay: Infinity }, 'CONFIG_BAD_TYPE')).toContain(
      '"weight_decay" must be a finite number, got Infinity',
    );
  });

  it('rejects out-of-range values, stating the allowed range', () => {
    const cases: [string, unknown][] = [
      ['num_epoches', 0],
      ['num_epoches', 100_001],
      ['batch_size', 60_001],
      ['learning_rate', 0],
      ['learning_rate', 1001],
      ['learning_decay', 2],
      ['momentum', 0.5],
      ['decay_factor', 0],
      ['decay_factor', 1.01],
      ['mu', 1],
      ['mu', -0.1],
      ['seed', -1],
      ['seed', 2 ** 32],
      ['validation_split', 0.5],
      ['weight_decay', 1.5],
    ];
    for (const [k, v] of cases) {
      const msg = parseErr({ ...BASE, [k]: v }, 'CONFIG_OUT_OF_RANGE');
      expect(msg).toBe(`${FILE}: "${k}" must be ${CONFIG_DOCS[k as keyof typeof CONFIG_DOCS].range}, got ${v}`);
    }
  });

  it('accepts the range bounds that are inclusive', () => {
    const c = parseConfig(
      {
        ...BASE,
        num_epoches: 100_000,
        batch_size: 60_000,
        learning_rate: 1000,
        decay_factor: 1,
        mu: 0,
        seed: 2 ** 32 - 1,
        weight_decay: 1,
      },
      FILE,
    );
    expect(c.seed).toBe(4294967295);
  });

  it('reports the first problem in a fixed order: unknown, missing, type, range', () => {
    const { mu: _mu, ...noMu } = BASE;
    const messy = { ...noMu, batch_size: 'x', learning_rate: -1, lr: 1 };
    expect(parseErr(messy, 'CONFIG_UNKNOWN_KEY')).toContain('"lr"');
    const { lr: _lr, ...noUnknown } = messy;
    expect(parseErr(noUnknown, 'CONFIG_MISSING_KEY')).toContain('"mu"');
    expect(parseErr({ ...noUnknown, mu: 0.9 }, 'CONFIG_BAD_TYPE')).toContain('"batch_size"');
    expect(parseErr({ ...BASE, learning_rate: -1, num_epoches: 0 }, 'CONFIG_OUT_OF_RANGE')).toContain(
      '"num_epoches"',
    );
    // Types are all checked before any range.
    expect(parseErr({ ...BASE, num_epoches: 0, mu: 'x' }, 'CONFIG_BAD_TYPE')).toContain('"mu"');
  });
});

describe('CONFIG_DOCS / CONFIG_KEYS', () => {
  it('document every key, the seven origin keys required and the extensions defaulting to 0', () => {
    expect(CONFIG_KEYS).toEqual(Object.keys(CONFIG_DOCS));
    expect(CONFIG_KEYS.filter((k) => CONFIG_DOCS[k].required)).toEqual(Object.keys(BASE));
    for (const k of ['seed', 'validation_split', 'weight_decay'] as const) {
      expect(CONFIG_DOCS[k]).toMatchObject({ required: false, default: 0 });
    }
    expect('default' in CONFIG_DOCS.mu).toBe(false);
  });
});

describe('shortName', () => {
  it('strips a leading config_ only', () => {
    expect(shortName('config_sample')).toBe('sample');
    expect(shortName('config_1')).toBe('1');
    expect(shortName('mine')).toBe('mine');
    expect(shortName('my_config_1')).toBe('my_config_1');
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-lr-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the four origin configs with their values', () => {
    const expected: Record<string, number[]> = {
      config_sample: [15, 10, 0.005, 0, 0.75, 0, 0.9],
      config_1: [15, 100, 0.0025, 0, 0.75, 0, 0.9],
      config_2: [15, 100, 0.0025, 0, 0.75, 1, 0.9],
      config_3: [15, 10, 0.005, 1, 0.75, 0, 0.9],
    };
    for (const [name, values] of Object.entries(expected)) {
      const path = join(CONFIGS, `${name}.json`);
      const loaded = loadConfig(path);
      expect(loaded.name).toBe(name);
      expect(loaded.path).toBe(path);
      expect(loaded.config).toEqual({
        ...Object.fromEntries(Object.keys(BASE).map((k, i) => [k, values[i]])),
        seed: 0,
        validation_split: 0,
        weight_decay: 0,
      });
    }
  });

  it('reports an unreadable file with its path', () => {
    const path = join(dir, 'nope.json');
    const msg = errorOf(() => loadConfig(path), 'FILE_UNREADABLE');
    expect(msg).toContain(path);
    expect(msg).toContain('check the path');
  });

  it('reports bad JSON with the file and the parser message', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{\n    "num_epoches": 15,\n}\n');
    const msg = errorOf(() => loadConfig(path), 'CONFIG_BAD_JSON');
    expect(msg).toContain(path);
    expect(msg).toMatch(/not valid JSON \(.+\)/);
  });

  it('tolerates a BOM and passes the path on to validation errors', () => {
    const path = join(dir, 'config_bom.json');
    writeFileSync(path, `\uFEFF${JSON.stringify({ ...BASE, batch_size: 0 })}`);
    expect(errorOf(() => loadConfig(path), 'CONFIG_OUT_OF_RANGE')).toContain(`${path}: "batch_size"`);
    writeFileSync(path, `\uFEFF${JSON.stringify(BASE)}`);
    expect(loadConfig(path).name).toBe('config_bom');
  });
});
