/**
 * Mistakes a user makes with the command line, and an interrupted run: each ends with one coded
 * line that says what to do, the documented exit code, and no stack trace. The BUILT cli is run
 * as a child process (`pnpm build` first).
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipFor } from '../helpers/requires.js';

import { afterAll, describe, expect, it } from 'vitest';

import { defaultMnistDir, encodeModel, KERNEL_ID, loadConfig, loadTrainingData, zeroWeights } from '@mnist-lr/core/engine';
import { Coordinator } from '@mnist-lr/coordinator';

import { CLI, ROOT, waitFor } from '../helpers/cluster.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      done({ code, stdout, stderr });
    });
  });
}

/** One coded line on stderr, the exit code, no stack; returns the line. */
function expectCoded(r: Run, code: string, exit: number): string {
  expect(r.code, r.stderr).toBe(exit);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines.at(-1)).toMatch(new RegExp(`^error \\[${code}\\]: `));
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain('unexpected error');
  return lines.at(-1) ?? '';
}

/** sha256 of W then b, float64 little-endian: the golden hashes of docs/exactness.md. */
function weightsHash(modelFile: string): string {
  const m = JSON.parse(readFileSync(modelFile, 'utf8')) as { W: string; b: string };
  return createHash('sha256').update(Buffer.from(m.W, 'base64')).update(Buffer.from(m.b, 'base64')).digest('hex');
}
const GOLDEN_1_2 = '9146f7600b9fe277d0191d7a950ddbdd73ac808dcf33265640c49fe09aa197ae';
// config_sample's full 15 epochs: the golden-hash table of docs/exactness.md.
const GOLDEN_SAMPLE_15 = '862bf7ac6990cffa096fdd8e7735d7ec0a7a9a0c6c25e467db52847453df5207';

const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-mistakes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.concurrent('coordinator: where it cannot listen, said before the data is loaded', () => {
  it('a port in use is PORT_IN_USE, exit 2', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await cli(['coordinator', '--config', 'configs/config_1.json', '--port', String(port), '--out', join(tmp, 'busy')]);
      const line = expectCoded(r, 'PORT_IN_USE', 2);
      expect(line).toContain(`127.0.0.1:${port}`);
      expect(line).toContain('choose another --port');
      // Found before MNIST was read.
      expect(r.stdout).not.toContain('data:');
    } finally {
      taken.close();
    }
  });

  it('an address not on this machine is ADDRESS_UNAVAILABLE, exit 2', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this machine.
    const r = await cli(['coordinator', '--config', 'configs/config_1.json', '--host', '192.0.2.7', '--port', '0', '--out', join(tmp, 'foreign')], { MNIST_LR_TOKEN: 't' });
    const line = expectCoded(r, 'ADDRESS_UNAVAILABLE', 2);
    expect(line).toContain('192.0.2.7 is not an address of this machine; pass --host');
    expect(r.stdout).not.toContain('data:');
  });
});

describe.concurrent('worker: coordinator addresses', () => {
  for (const [url, says] of [
    ['ws://h:99999', 'port 99999 is beyond 65535'],
    ['ws://h:7070/#x', 'cannot have a #fragment'],
    ['ws://h:7070#', 'cannot have a #fragment'],
    ['ws://h:0', 'port 0 cannot be connected to'],
    ['http://h:7070', 'the scheme is http'],
  ] as const) {
    it(`${url} is refused at once with BAD_OPTION, exit 2, never retried`, async () => {
      const r = await cli(['worker', '--connect', url], { MNIST_LR_TOKEN: 't' });
      const line = expectCoded(r, 'BAD_OPTION', 2);
      expect(line).toContain(`--connect ${url}: `);
      expect(line).toContain(says);
      expect(r.stdout).not.toContain('retrying');
    });
  }

  it('an unknown host name stops the worker at once with UNKNOWN_HOST, exit 1', async () => {
    // .invalid never resolves (RFC 6761).
    const r = await cli(['worker', '--connect', 'ws://no-such-host.invalid:7070'], { MNIST_LR_TOKEN: 't' });
    const line = expectCoded(r, 'PEER_ERROR', 1);
    expect(line).toContain('[UNKNOWN_HOST]');
    expect(line).toContain('check the host in --connect');
    expect(r.stdout).not.toContain('retrying');
  });

  it('WS:// in capitals is accepted: the worker joins', async () => {
    const config = loadConfig(join(ROOT, 'configs/config_1.json')).config;
    const coordinator = await Coordinator.start({ config, data: loadTrainingData(), token: 'caps' });
    const child = spawn(process.execPath, [CLI, 'worker', '--connect', coordinator.url.replace('ws://', 'WS://')], {
      env: { ...process.env, MNIST_LR_TOKEN: 'caps' },
      stdio: 'ignore',
    });
    try {
      await waitFor(() => coordinator.workers === 1, 30_000, 'the worker to join');
    } finally {
      child.kill('SIGKILL');
      await coordinator.close();
    }
  });
});

describe.concurrent('train and eval', () => {
  it('--verify outside [0, 1], or without workers, is BAD_OPTION, exit 2', async () => {
    expect(expectCoded(await cli(['train', '--config', 'configs/config_1.json', '--workers', '2', '--verify', '1.5']), 'BAD_OPTION', 2)).toContain('--verify must be a fraction in [0, 1], got "1.5"');
    expect(expectCoded(await cli(['train', '--config', 'configs/config_1.json', '--verify', '0.5']), 'BAD_OPTION', 2)).toContain('--workers 0 has none; add --workers N');
  });

  it('a run that fails on bad data leaves no output folders behind', async () => {
    const bad = join(tmp, 'bad-mnist');
    mkdirSync(bad);
    const mnist = defaultMnistDir();
    for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) symlinkSync(join(mnist, f), join(bad, f));
    writeFileSync(join(bad, 'train-images-idx3-ubyte'), readFileSync(join(mnist, 'train-images-idx3-ubyte')).subarray(0, 5000));
    const out = join(tmp, 'bad-data-out');
    const r = await cli(['train', '--config', 'configs/config_1.json', '--data-dir', bad, '--out', out]);
    expectCoded(r, 'IDX_BAD_LENGTH', 2);
    expect(existsSync(out)).toBe(false);
  });

  it('eval reads only the test files, and says the data cannot be compared without the training files', async () => {
    const dir = join(tmp, 'test-only');
    mkdirSync(dir);
    const mnist = defaultMnistDir();
    for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) symlinkSync(join(mnist, f), join(dir, f));
    const model = join(tmp, 'zero.model.json');
    const config = loadConfig(join(ROOT, 'configs/config_1.json')).config;
    writeFileSync(model, encodeModel({ name: 'zero', config, dataset: '0'.repeat(64), kernel: KERNEL_ID, epochs: 1, testLossSum: 0, testAccuracy: 0, weights: zeroWeights() }));
    const r = await cli(['eval', '--model', model, '--data-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('10,000 test images, the test files only');
    // Zero weights: every class equally likely, loss log(10) per image, argmax picks class 0.
    expect(r.stdout).toContain(`test loss      ${(10_000 * Math.log(10)).toFixed(2)} (sum over 10,000 images)`);
    expect(r.stderr).toMatch(/^note: .* has no training files, so whether this is the data .* cannot be checked/);
  });
});

describe('Ctrl-C', () => {
  it('on a terminal: clears the bar, says how to --resume, exits 130; --resume then ends with the golden weights', async (ctx) => {
    // util-linux's script gives the run a terminal.
    if (skipFor('the Ctrl-C test', existsSync('/usr/bin/script') ? undefined : 'util-linux\'s /usr/bin/script is missing')) return ctx.skip();
    const out = join(tmp, 'ctrl-c');
    const command = `${process.execPath} ${CLI} train --config configs/config_sample.json --out ${out}`;
    // The full 15 epochs, so that even a fast machine is still training when the Ctrl-C arrives.
    // script(1) runs the command on a pseudo-terminal; a \x03 written to it is a real Ctrl-C.
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => /steps\/s/.test(screen) && /\| [1-9]\d*%/.test(screen), 60_000, 'the bar to pass 1 %');
    child.stdin.write('\x03');
    expect(await exited).toBe(130);
    const rest = screen.slice(screen.lastIndexOf('steps/s'));
    // The bar's line is erased (ESC [2K) before the message, which is one coded line.
    expect(rest).toMatch(/\x1b\[2Kerror \[INTERRUPTED\]: interrupted by SIGINT at epoch \d+\/15, step \d+\/6000; its checkpoint holds that point; continue with: (?:pnpm )?mnist-lr train --config configs\/config_sample\.json --out \S+ --resume\r?\n/);
    expect(screen).not.toMatch(/\n\s+at /);
    expect(readFileSync(join(out, 'logs/config_sample.log'), 'utf8')).toContain('error [INTERRUPTED]');

    const resumed = await cli(['train', '--config', 'configs/config_sample.json', '--out', out, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resuming config_sample from .*: epoch \d+\/15 at step \d+\/6000/);
    expect(weightsHash(join(out, 'models/config_sample.model.json'))).toBe(GOLDEN_SAMPLE_15);
  });

  it('with local workers: SIGINT stops between steps, exit 130, and --resume in-process ends with the golden weights', async () => {
    const out = join(tmp, 'sigint-workers');
    const child = spawn(process.execPath, [CLI, 'train', '--config', 'configs/config_1.json', '--epochs', '2', '--workers', '1', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // The first epoch's line: the second epoch (600 distributed steps) is under way.
    await waitFor(() => stdout.includes('epoch 1/2'), 60_000, 'the first epoch to end');
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toMatch(/^error \[INTERRUPTED\]: interrupted by SIGINT at epoch [12]\/2, step \d+\/600; its checkpoint holds that point; continue with: .* --workers 1 .*--resume\n$/);

    const resumed = await cli(['train', '--config', 'configs/config_1.json', '--epochs', '2', '--out', out, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(weightsHash(join(out, 'models/config_1.model.json'))).toBe(GOLDEN_1_2);
  });
});
