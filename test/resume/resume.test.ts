/**
 * Checkpoints and --resume end to end, with real processes of the BUILT cli
 * (packages/cli/dist/bin.js; `pnpm build` first, as `pnpm test` does).
 *
 * The reference is one uninterrupted in-process run of config_1 for 2 epochs (600 steps of 100
 * an epoch). Each other run is SIGKILLed in the middle of epoch 2, as soon as its checkpoint
 * (written every 50 steps) shows epoch 2 under way, then continued with --resume: the model file
 * must be byte-identical to the reference's, and the metrics files must agree on every epoch
 * (but for the wall-clock seconds). Every wait has a timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Checkpoint } from '@mnist-lr/core/engine';
import { decodeCheckpoint } from '@mnist-lr/core/engine';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const CONFIG = 'configs/config_1.json';
/** Steps in an epoch of config_1. */
const STEPS = 600;
const COMMON = ['--config', CONFIG, '--epochs', '2', '--checkpoint-every', '50'];

const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-resume-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Started {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output: () => string;
  done: Promise<Run>;
}

/** Starts the cli from the repository root, output piped. */
function start(args: string[]): Started {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, output: () => stdout + stderr, done };
}

/** Resolves with `p`, or rejects after `ms` (killing `child`, if given, so nothing outlives the test). */
async function within<T>(p: Promise<T>, ms: number, what: string, s?: Started): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      s?.child.kill('SIGKILL');
      reject(new Error(`timed out after ${ms} ms: ${what}${s ? `; its output:\n${s.output()}` : ''}`));
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the cli to its end (at most `ms`). */
async function cli(args: string[], ms = 90_000): Promise<Run> {
  const s = start(args);
  return within(s.done, ms, `mnist-lr ${args.join(' ')}`, s);
}

const checkpointOf = (out: string): string => join(out, 'checkpoints', 'config_1.ckpt');
const readCheckpoint = (out: string): Checkpoint => decodeCheckpoint(readFileSync(checkpointOf(out)), checkpointOf(out));

/**
 * Polls the run's checkpoint (every 2 ms, re-reading it only when it changed) until it shows
 * epoch 2 under way (epoch 1 finished, step > 0), then SIGKILLs the process. Returns the
 * checkpoint the killed run left behind.
 */
async function killMidEpoch2(s: Started, out: string, ms = 90_000): Promise<Checkpoint> {
  const file = checkpointOf(out);
  let seen = '';
  const found = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      let stamp: string;
      try {
        const st = statSync(file);
        stamp = `${st.mtimeMs}/${st.ino}/${st.size}`;
      } catch {
        return; // not written yet
      }
      if (stamp === seen) return;
      seen = stamp;
      const c = decodeCheckpoint(readFileSync(file), file); // renamed into place: never torn
      if (c.state.epoch === 1 && c.state.step > 0) {
        s.child.kill('SIGKILL');
        clearInterval(timer);
        resolve();
      }
    }, 2);
    void s.done.then((r) => {
      clearInterval(timer);
      reject(new Error(`the run ended (exit ${r.code}, ${r.signal}) before it could be killed mid-epoch 2:\n${r.stdout}${r.stderr}`));
    });
  });
  await within(found, ms, 'a checkpoint in the middle of epoch 2', s);
  const r = await within(s.done, 10_000, 'the killed run to exit');
  expect(r.signal, r.stdout + r.stderr).toBe('SIGKILL');
  const left = readCheckpoint(out);
  // Killed in the middle of epoch 2: epoch 1 is in the history, epoch 2 is part-way.
  expect(left.state.epoch).toBe(1);
  expect(left.state.step).toBeGreaterThan(0);
  expect(left.state.step).toBeLessThan(STEPS);
  expect(left.state.step % 50).toBe(0);
  expect(left.state.history).toHaveLength(1);
  return left;
}

interface MetricsLine {
  type: string;
  [key: string]: unknown;
}

function metricsLines(out: string): MetricsLine[] {
  return readFileSync(join(out, 'logs/config_1.metrics.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as MetricsLine);
}

/** The epoch lines of a metrics file, without the wall-clock seconds. */
function epochLines(out: string): MetricsLine[] {
  return metricsLines(out)
    .filter((l) => l.type === 'epoch')
    .map(({ seconds: _seconds, ...rest }) => rest as MetricsLine);
}

const modelOf = (out: string): Buffer => readFileSync(join(out, 'models/config_1.model.json'));

/** The resumed run in `out` finished with the reference's bytes and metrics. */
function expectSameAsReference(out: string, r: Run): void {
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/resuming config_1 from .*config_1\.ckpt: epoch 2\/2 at step \d+\/600, 1 epoch done, lr 0\.0025/);
  expect(modelOf(out).equals(modelOf(A)), 'model file byte-identical to the uninterrupted run').toBe(true);
  expect(epochLines(out)).toEqual(epochLines(A));
  expect(epochLines(out)).toHaveLength(2);
  // The files describe the whole run, epoch 1 (from the checkpoint) included.
  expect(metricsLines(out).map((l) => l.type)).toEqual(['start', 'epoch', 'epoch', 'end']);
  const log = readFileSync(join(out, 'logs/config_1.log'), 'utf8');
  expect(log).toMatch(/^resumed from {8}.*config_1\.ckpt at epoch 2, step \d+$/m);
  expect(log).toMatch(/^epoch 1\/2 /m);
  expect(log).toMatch(/^epoch 2\/2 /m);
  // The final checkpoint is kept: the finished run.
  const last = readCheckpoint(out);
  expect([last.state.epoch, last.state.step]).toEqual([2, 0]);
}

let A: string;
let reference: Run;

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "pnpm build" first`);
  A = join(tmp, 'A');
  reference = await cli(['train', ...COMMON, '--out', A]);
});

describe('mnist-lr train --resume', () => {
  it('the uninterrupted reference run leaves its final checkpoint', () => {
    expect(reference.code, reference.stderr).toBe(0);
    expect(reference.stdout).not.toContain('note: an earlier checkpoint');
    const c = readCheckpoint(A);
    expect([c.state.epoch, c.state.step, c.state.version]).toEqual([2, 0, 2 * STEPS]);
    expect(c.state.history).toHaveLength(2);
  });

  it('in-process: killed mid-epoch 2, resumed: the same model bytes and metrics', async () => {
    const B = join(tmp, 'B');
    const killed = start(['train', ...COMMON, '--out', B]);
    await killMidEpoch2(killed, B);
    // Killed before the end: no model yet, the metrics file stops after epoch 1.
    expect(existsSync(join(B, 'models/config_1.model.json'))).toBe(false);
    expect(metricsLines(B).map((l) => l.type)).toEqual(['start', 'epoch']);

    expectSameAsReference(B, await cli(['train', ...COMMON, '--out', B, '--resume']));
  });

  it('local workers: killed mid-run with 2 worker threads, resumed with 2, 1 or 0 workers: the same bytes each time', async () => {
    const W2 = join(tmp, 'W2');
    const killed = start(['train', ...COMMON, '--workers', '2', '--out', W2]);
    await killMidEpoch2(killed, W2);
    // Three copies of the interrupted run's folder, each resumed another way.
    const W1 = join(tmp, 'W1');
    const W0 = join(tmp, 'W0');
    cpSync(W2, W1, { recursive: true });
    cpSync(W2, W0, { recursive: true });

    expectSameAsReference(W2, await cli(['train', ...COMMON, '--workers', '2', '--out', W2, '--resume']));
    expectSameAsReference(W1, await cli(['train', ...COMMON, '--workers', '1', '--out', W1, '--resume']));
    expectSameAsReference(W0, await cli(['train', ...COMMON, '--workers', '0', '--out', W0, '--resume']));
  });

  it('a finished run resumed with a larger --epochs trains on, to the bytes of a 3-epoch run', async () => {
    const E = join(tmp, 'E');
    cpSync(A, E, { recursive: true });
    const three = join(tmp, 'three');
    const [more, fresh] = [
      await cli(['train', '--config', CONFIG, '--epochs', '3', '--out', E, '--resume']),
      await cli(['train', '--config', CONFIG, '--epochs', '3', '--out', three]),
    ];
    expect(more.code, more.stderr).toBe(0);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(more.stdout).toContain('epoch 3/3 at step 0/600, 2 epochs done, lr 0.0025 (num_epoches 3 now, 2 in the checkpoint)');
    expect(modelOf(E).equals(modelOf(three))).toBe(true);
    expect(epochLines(E)).toEqual(epochLines(three));
  });
});

describe('mnist-lr coordinator --resume', () => {
  it('coordinator SIGKILLed mid-epoch and restarted with --resume: the same two worker processes reconnect, the run ends with the same bytes', async () => {
    const C = join(tmp, 'C');
    mkdirSync(C, { recursive: true });
    const tokenFile = join(tmp, 'token');
    writeFileSync(tokenFile, 'resume-test-token-0123456789abcdef\n', { mode: 0o600 });
    const port = await freePort();
    const coordinatorArgs = ['coordinator', ...COMMON, '--port', String(port), '--min-workers', '2', '--token-file', tokenFile, '--out', C];

    const first = start(coordinatorArgs);
    const workers = [1, 2].map((i) => start(['worker', '--connect', `ws://127.0.0.1:${port}`, '--token-file', tokenFile, '--label', `w${i}`]));
    try {
      await killMidEpoch2(first, C);
      // Started again at once, on the same port; the workers are left alone.
      const second = start([...coordinatorArgs, '--resume']);
      const r = await within(second.done, 90_000, 'the restarted coordinator to finish', second);
      expectSameAsReference(C, r);
      for (const w of workers) {
        const wr = await within(w.done, 15_000, 'a worker to exit', w);
        expect(wr.code, wr.stdout + wr.stderr).toBe(0);
        // It lost the first coordinator, reconnected by itself, and saw the run complete.
        expect(wr.stdout + wr.stderr).toMatch(/closed .*reconnecting/);
        expect((wr.stdout + wr.stderr).match(/joined ws:/g), wr.stdout + wr.stderr).toHaveLength(2);
        expect(wr.stdout + wr.stderr).toContain('training is complete');
      }
      expect(r.stdout.match(/ joined from /g), r.stdout).toHaveLength(2);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
    }
  });
});

describe('--resume where no checkpoint was written yet', () => {
  // A scheduler that restarts the command (a Kubernetes Job) passes the same arguments on the
  // first start as on a restart.
  it('starts afresh, says so, and ends with the bytes of a run without --resume', async () => {
    const out = join(tmp, 'first-start');
    const r = await cli(['train', ...COMMON, '--out', out, '--resume']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`--resume: no checkpoint at ${checkpointOf(out)} yet; starting afresh`);
    expect(r.stdout).not.toContain('resuming');
    expect(modelOf(out).equals(modelOf(A)), 'model file byte-identical to the run without --resume').toBe(true);
    expect(epochLines(out)).toEqual(epochLines(A));
  });
});

describe('refusals', () => {
  /** A user mistake: exit 2, one coded line on stderr, no stack. */
  function expectRefused(r: Run, code: string): string {
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const line = r.stderr.trimEnd().split('\n')[0] ?? '';
    expect(line).toMatch(new RegExp(`^error \\[${code}\\]: `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    return line;
  }

  /** A copy of the reference run's folder, checkpoint included. */
  function copyOfA(name: string): string {
    const dir = join(tmp, name);
    cpSync(A, dir, { recursive: true });
    return dir;
  }

  it('a checkpoint of another config (same name, learning_rate changed) → CHECKPOINT_MISMATCH naming the key', async () => {
    const out = copyOfA('mismatch');
    const other = join(tmp, 'other-configs', 'config_1.json');
    mkdirSync(join(tmp, 'other-configs'), { recursive: true });
    const changed = { ...(JSON.parse(readFileSync(join(ROOT, CONFIG), 'utf8')) as Record<string, unknown>), learning_rate: 0.005 };
    writeFileSync(other, JSON.stringify(changed));
    const before = readFileSync(checkpointOf(out));
    const line = expectRefused(await cli(['train', '--config', other, '--epochs', '2', '--out', out, '--resume']), 'CHECKPOINT_MISMATCH');
    expect(line).toContain(`learning_rate 0.0025 in the checkpoint, 0.005 in ${other}`);
    expect(line).toContain('config_1.ckpt');
    // Refused, not ignored: the checkpoint is untouched.
    expect(readFileSync(checkpointOf(out)).equals(before)).toBe(true);

    const seed = expectRefused(await cli(['train', '--config', CONFIG, '--epochs', '2', '--seed', '7', '--out', out, '--resume']), 'CHECKPOINT_MISMATCH');
    expect(seed).toContain(`seed 0 in the checkpoint, 7 in ${CONFIG} with --epochs 2 --seed 7`);
    const fewer = expectRefused(await cli(['train', '--config', CONFIG, '--epochs', '1', '--out', out, '--resume']), 'CHECKPOINT_MISMATCH');
    expect(fewer).toContain('--epochs 2 or more');
  });

  it('a corrupted checkpoint (one byte flipped) → CHECKPOINT_BAD naming it and what to do', async () => {
    const out = copyOfA('corrupt');
    const bytes = readFileSync(checkpointOf(out));
    const middle = bytes.length >> 1;
    bytes[middle] = bytes[middle]! ^ 0x01;
    writeFileSync(checkpointOf(out), bytes);
    const line = expectRefused(await cli(['train', ...COMMON, '--out', out, '--resume']), 'CHECKPOINT_BAD');
    expect(line).toContain(checkpointOf(out));
    expect(line).toContain('without --resume');
    // Truncated too.
    writeFileSync(checkpointOf(out), bytes.subarray(0, 1000));
    expectRefused(await cli(['train', ...COMMON, '--out', out, '--resume']), 'CHECKPOINT_BAD');
  });

  it('a checkpoint path that exists but cannot be read (a folder in the way) → FILE_UNREADABLE naming it', async () => {
    const out = join(tmp, 'unreadable');
    mkdirSync(checkpointOf(out), { recursive: true });
    const line = expectRefused(await cli(['train', ...COMMON, '--out', out, '--resume']), 'FILE_UNREADABLE');
    expect(line).toContain(checkpointOf(out));
    expect(line).toContain('EISDIR');
    expect(existsSync(join(out, 'logs'))).toBe(false);
  });

  it('a fresh run where a checkpoint exists says so, then replaces it', async () => {
    const out = copyOfA('fresh');
    const r = await cli(['train', '--config', CONFIG, '--epochs', '1', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/note: an earlier checkpoint of config_1 exists \(.*config_1\.ckpt\); pass --resume to continue it/);
    const c = readCheckpoint(out);
    expect([c.state.epoch, c.config.num_epoches]).toEqual([1, 1]);
  });
});

/** A TCP port that was free a moment ago: listen on port 0, note the port, close. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
