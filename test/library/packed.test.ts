import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, loadTrainingData, train, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { firstDifference, originConfig, ROOT } from '../helpers/cluster.js';
import { accuracyOf, EXAMPLES, runNode } from '../helpers/examples.js';
import { skipFor } from '../helpers/requires.js';

// The five packages as a stranger gets them: `pnpm pack` tarballs installed with plain npm into an
// empty project outside this repository, the examples copied into it and run there with node.
// npm needs the registry for the packages' own dependencies (its cache is used when warm); where
// the registry cannot be reached, the whole file is skipped with the reason printed.

const PACKAGES = ['core', 'watch', 'worker', 'coordinator', 'cli'] as const;
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
/** npm installs of a few dozen packages: minutes on a cold cache, never unbounded. */
const INSTALL_MS = 15 * 60_000;

/** Runs a command to completion (bounded), failing with its output when it fails. */
function run(command: string, args: string[], cwd: string, timeoutMs = 5 * 60_000): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_update_notifier: 'false' } });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} in ${cwd} failed (${r.error?.message ?? `exit ${r.status}`}):\n${output}`);
  return output;
}

/** Why npm cannot install here, or undefined when it can. */
function registryUnreachable(): string | undefined {
  const r = spawnSync('npm', ['ping', '--loglevel=error'], { encoding: 'utf8', timeout: 30_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') return 'the npm registry did not answer `npm ping` within 30 s';
  if (r.error) return `npm cannot be run (${r.error.message})`;
  if (r.status !== 0) return `the npm registry cannot be reached (npm ping: ${`${r.stderr}${r.stdout}`.trim().split('\n').at(-1)})`;
  return undefined;
}

const unreachable = registryUnreachable();

describe.skipIf(skipFor('test/library/packed.test.ts', unreachable))('the packed packages, installed with npm in an empty project', () => {
  const work = mkdtempSync(join(tmpdir(), 'mnist-lr-packed-'));
  const tarballs = join(work, 'tarballs');
  const project = join(work, 'project');
  let data: TrainingData;
  /** config_1 for one epoch, trained in this process from the repository's sources. */
  let reference: Weights;

  beforeAll(async () => {
    mkdirSync(tarballs);
    mkdirSync(project);
    for (const p of PACKAGES) {
      const dir = join(ROOT, 'packages', p);
      if (!existsSync(join(dir, 'dist'))) throw new Error(`packages/${p}/dist is missing: run pnpm build first (pnpm test does)`);
      run('pnpm', ['pack', '--pack-destination', tarballs], dir);
    }
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'mnist-lr-consumer', private: true }, null, 2)}\n`);
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    expect(files).toHaveLength(PACKAGES.length);
    run('npm', ['install', ...NPM_FLAGS, ...files], project, INSTALL_MS);
    for (const f of readdirSync(EXAMPLES).filter((f) => f.endsWith('.mjs'))) copyFileSync(join(EXAMPLES, f), join(project, f));
    copyFileSync(join(ROOT, 'configs/config_1.json'), join(project, 'config_1.json'));
    data = loadTrainingData();
    reference = (await train({ config: originConfig('config_1', { num_epoches: 1 }), data })).weights;
  }, INSTALL_MS + 5 * 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('each package.json carries engines, repository, keywords and sideEffects, and real versions of its siblings; each package ships its README', () => {
    for (const p of PACKAGES) {
      const pkg = JSON.parse(readFileSync(join(project, 'node_modules/@mnist-lr', p, 'package.json'), 'utf8'));
      expect(pkg.engines?.node, p).toBe('>=20.19');
      expect(pkg.repository?.directory, p).toBe(`packages/${p}`);
      expect(pkg.keywords?.length, p).toBeGreaterThan(0);
      expect(pkg.sideEffects, p).toBeDefined();
      expect(JSON.stringify(pkg.dependencies), p).not.toContain('workspace:');
      // Only the built code travels: no sources, no tests.
      const shipped = readdirSync(join(project, 'node_modules/@mnist-lr', p), { recursive: true }).map(String);
      expect(shipped.filter((f) => f.startsWith('src') || /\.test\./.test(f)), p).toEqual([]);
      // What npm shows on the package's page.
      expect(shipped, p).toContain('README.md');
    }
  });

  it('npx mnist-lr --help lists the commands', () => {
    const help = run('npx', ['--no-install', 'mnist-lr', '--help'], project);
    for (const command of ['train', 'coordinator', 'worker', 'eval', 'report']) expect(help).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('the in-process example trains config_1 from the seven origin keys to the bits and the accuracy of `npx mnist-lr train`', async () => {
    const example = await runNode(join(project, 'train-in-process.mjs'), ['example.model.json'], { cwd: project });
    expect(example.code, example.output).toBe(0);
    run('npx', ['--no-install', 'mnist-lr', 'train', '--config', 'config_1.json', '--epochs', '1', '--workers', '0', '--out', 'out'], project);
    const cli = loadModel(join(project, 'out/models/config_1.model.json'));
    const mine = loadModel(join(project, 'example.model.json'));
    expect(accuracyOf(example.output)).toBe(Number(cli.testAccuracy.toFixed(4)));
    expect(mine.testAccuracy).toBe(cli.testAccuracy);
    expect(firstDifference(mine.weights, cli.weights)).toBe(-1);
    expect(firstDifference(mine.weights, reference)).toBe(-1);
    const predicted = await runNode(join(project, 'predict.mjs'), ['example.model.json'], { cwd: project });
    expect(predicted.code, predicted.output).toBe(0);
    expect(predicted.output.match(/^test image \d: predicted \d, labelled \d$/gm)).toHaveLength(10);
  });

  it('a coordinator hosted in the project\'s code, with two worker threads, gives the in-process bits', async () => {
    const r = await runNode(join(project, 'host-coordinator.mjs'), ['distributed.model.json'], { cwd: project });
    expect(r.code, r.output).toBe(0);
    expect(r.output.match(/worker: training is complete/g)).toHaveLength(2);
    expect(firstDifference(loadModel(join(project, 'distributed.model.json')).weights, reference)).toBe(-1);
  });

  it('a worker hosted in the project\'s code computes to the in-process bits', async () => {
    const token = `packed-${Date.now()}`;
    const coordinator = await Coordinator.start({ config: originConfig('config_1', { num_epoches: 1 }), data, token, workerWaitMs: 120_000 });
    try {
      const worker = runNode(join(project, 'worker.mjs'), [coordinator.url], { cwd: project, env: { MNIST_LR_TOKEN: token } });
      const state = await coordinator.run();
      const r = await worker;
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain('RUN_COMPLETE');
      expect(firstDifference(state.weights, reference)).toBe(-1);
    } finally {
      await coordinator.close();
    }
  });

  it('@mnist-lr/core alone installs without the protocol\'s codec and trains', async () => {
    const alone = join(work, 'core-alone');
    mkdirSync(alone);
    writeFileSync(join(alone, 'package.json'), `${JSON.stringify({ name: 'core-alone', private: true }, null, 2)}\n`);
    run('npm', ['install', ...NPM_FLAGS, join(tarballs, readdirSync(tarballs).find((f) => f.includes('-core-'))!)], alone, INSTALL_MS);
    expect(existsSync(join(alone, 'node_modules/msgpackr'))).toBe(false);
    expect(existsSync(join(alone, 'node_modules/msgpackr-extract'))).toBe(false);
    copyFileSync(join(EXAMPLES, 'train-in-process.mjs'), join(alone, 'train-in-process.mjs'));
    const here = await runNode(join(alone, 'train-in-process.mjs'), ['alone.model.json'], { cwd: alone });
    expect(here.code, here.output).toBe(0);
    expect(firstDifference(loadModel(join(alone, 'alone.model.json')).weights, reference)).toBe(-1);
  }, INSTALL_MS);
});
