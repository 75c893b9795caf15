import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { skipFor } from '../../../../test/helpers/requires.js';

import { describe, expect, it } from 'vitest';

import { defaultMnistDir } from '@mnist-lr/core/engine';

import { originUnavailable, REPO_ROOT } from './origin.js';

const why = originUnavailable();

describe('bench/origin.py', () => {
  // The same bounds the trainer's own test puts on one epoch of config_1 (faithful math gives
  // 0.806): a script that drifted from the origin's algorithm would land elsewhere.
  it.skipIf(skipFor('the NumPy origin test', why))("reaches the origin's accuracy after one epoch of config_1", () => {
    const run = spawnSync('python3', [join(REPO_ROOT, 'bench', 'origin.py'), join(REPO_ROOT, 'configs', 'config_1.json'), defaultMnistDir(), '1'], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: '1' },
    });
    expect(run.status, run.stderr).toBe(0);
    const m = /epoch 1: test loss ([\d.]+), test accuracy ([\d.]+)/.exec(run.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThan(0.8);
    expect(Number(m![2])).toBeLessThan(0.83);
    expect(Number(m![1])).toBeGreaterThan(12_000);
    expect(Number(m![1])).toBeLessThan(14_500);
  });
});
