/**
 * Workers on other JavaScript engines: `mnist-lr worker` run by Bun (JavaScriptCore) and by Deno
 * (V8 with Deno's own runtime), from their npm packages' binaries (devDependencies of the
 * repository), trains config_1 beside a Node worker to the golden weights. Each engine names
 * itself in its hello, and /status shows it. The binaries ship for linux-x64 only here; where one
 * is missing the test skips with the reason on a developer's machine, and fails in CI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { loadTrainingData, weightsSha256 } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { statusSchema } from '@mnist-lr/watch/status';

import { CLI, originConfig, ROOT, startProcessWorker, type ProcessWorker } from '../helpers/cluster.js';
import { GOLDEN } from '../helpers/golden.js';
import { skipFor } from '../helpers/requires.js';

const require = createRequire(join(ROOT, 'package.json'));

/** The binary a platform package ships, or why it is not here. */
function binary(pkg: string, file: string): { path: string; missing?: string } {
  let path: string;
  try {
    path = join(dirname(require.resolve(`${pkg}/package.json`)), file);
  } catch {
    return { path: '', missing: `${pkg} is not installed (run pnpm install: it is a devDependency, for linux-x64)` };
  }
  return existsSync(path) ? { path } : { path, missing: `${pkg} has no ${file} (reinstall it with pnpm install)` };
}

const bun = binary('@oven/bun-linux-x64', 'bin/bun');
const deno = binary('@deno/linux-x64-glibc', 'deno');

const golden = GOLDEN.find((g) => g.config === 'config_1')!;
// Bun and Deno run from a folder of their own, so that neither leaves a lock file in the repository.
const cwd = mkdtempSync(join(tmpdir(), 'mnist-lr-engines-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe.skipIf(skipFor('the Bun and Deno workers test', bun.missing ?? deno.missing))('workers under Bun and Deno', () => {
  it('train config_1 with a Node worker to the golden weights, each named by its engine', async () => {
    const engines = { bun: [bun.path], deno: [deno.path, 'run', '-A'] };
    const token = `token-${Math.random().toString(36).slice(2)}`;
    const coordinator = await Coordinator.start({
      config: originConfig('config_1', { num_epoches: golden.epochs }),
      data: loadTrainingData(),
      token,
      minWorkers: 3,
      // Three worker processes and the coordinator share two cores: a slow first slice is no fault here.
      minStepTimeoutMs: 10_000,
    });
    const node: ProcessWorker = startProcessWorker(coordinator.url, token, ['--label', 'node']);
    const others: Array<{ child: ChildProcess; output: () => string }> = Object.entries(engines).map(([label, [bin, ...args]]) => {
      const child = spawn(bin!, [...args, CLI, 'worker', '--connect', coordinator.url, '--label', label], {
        cwd,
        env: { ...process.env, MNIST_LR_TOKEN: token, DENO_NO_UPDATE_CHECK: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      return { child, output: () => output };
    });
    try {
      const state = await coordinator.run();
      expect(weightsSha256(state.weights), others.map((o) => o.output()).join('\n')).toBe(golden.sha256);
      const status = statusSchema.parse(coordinator.monitor.status());
      const slicesBy = (prefix: string): number => status.workers.filter((w) => w.engine?.startsWith(prefix)).reduce((n, w) => n + w.slices, 0);
      for (const prefix of ['Node ', 'Bun ', 'Deno ']) expect(slicesBy(prefix), `${prefix}in ${JSON.stringify(status.workers.map((w) => [w.label, w.engine]))}`).toBeGreaterThan(0);
      expect(status.workers.find((w) => w.label === 'bun')?.engine).toMatch(/^Bun \d+\.\d+\.\d+$/);
      expect(status.workers.find((w) => w.label === 'deno')?.engine).toMatch(/^Deno \d+\.\d+\.\d+$/);
    } finally {
      node.child.kill('SIGKILL');
      for (const o of others) o.child.kill('SIGKILL');
      await coordinator.close();
    }
  });
});
