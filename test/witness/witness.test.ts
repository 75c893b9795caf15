import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultMnistDir, loadTrainingData, train, weightsSha256 } from '@mnist-lr/core';
import { originConfig, ROOT } from '../helpers/cluster.js';
import { GOLDEN } from '../helpers/golden.js';
import { skipFor } from '../helpers/requires.js';

// The witness (witness.py): a second implementation of the training, in Python with NumPy, written
// from DESIGN.md and docs/exactness.md. Trained on config_1 for 2 epochs it must print the golden weights
// hash, and every number both implementations report must be the same float64: each epoch's
// training loss (exp, log and the δ rounding of every sample) and the test loss sum and accuracy.
const GOLDEN_CONFIG_1_2_EPOCHS = GOLDEN.find((g) => g.config === 'config_1' && g.epochs === 2)!.sha256;

function pythonWithNumpy(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import numpy; print(numpy.__version__)'], { encoding: 'utf8' });
  if (r.error) return `python3 is not available (${r.error.message})`;
  if (r.status !== 0) return `python3 has no numpy (${r.stderr.trim().split('\n').at(-1)})`;
  return undefined;
}

const skipReason = pythonWithNumpy();

function witness(...args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile('python3', [join(ROOT, 'test/witness/witness.py'), ...args], { encoding: 'utf8', timeout: 600_000 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`witness failed: ${stderr || error.message}`));
      else done(stdout);
    });
  });
}

describe.skipIf(skipFor('the NumPy witness', skipReason))('the NumPy witness', () => {
  it('trains config_1 for 2 epochs to the golden weights hash, with every reported number equal', async () => {
    const config = originConfig('config_1', { num_epoches: 2 });
    const [out, ours] = await Promise.all([
      witness('--data', defaultMnistDir(), '--config', join(ROOT, 'configs/config_1.json'), '--epochs', '2'),
      train({ config, data: loadTrainingData() }),
    ]);
    const value = (pattern: RegExp): string => {
      const m = out.match(pattern);
      if (!m) expect.fail(`the witness printed no line matching ${pattern}:\n${out}`);
      return m[1]!;
    };
    expect(value(/^weights sha256 ([0-9a-f]{64})$/m)).toBe(GOLDEN_CONFIG_1_2_EPOCHS);
    expect(weightsSha256(ours.weights)).toBe(GOLDEN_CONFIG_1_2_EPOCHS);
    for (const m of ours.history) expect(Number(value(new RegExp(`^epoch ${m.epoch} train loss (\\S+)$`, 'm')))).toBe(m.trainLoss);
    const last = ours.history.at(-1)!;
    expect(Number(value(/^test loss sum (\S+)$/m))).toBe(last.testLossSum);
    expect(Number(value(/^test accuracy (\S+)$/m))).toBe(last.testAccuracy);
  }, 900_000);
});
