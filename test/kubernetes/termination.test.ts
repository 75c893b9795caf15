/**
 * Termination as Kubernetes does it, with real signals to real `mnist-lr` processes: SIGTERM,
 * then the pod's grace period (10 s for a worker, 30 s for the coordinator in deploy/kubernetes)
 * before a SIGKILL would come; each wait below is bounded by that period.
 *
 * - a worker told to stop mid-run leaves at once with WORKER_SHUTDOWN, and the run goes on
 *   without waiting for any deadline: the step deadline here is an hour, so a slice left
 *   waiting on one would stall the run past the test's timeout;
 * - a worker that cannot reach its coordinator gives up after --retry-for and exits 1, and one
 *   told to stop while it retries leaves at once;
 * - a coordinator told to stop before its first step exits 130, and started again with the same
 *   arguments (--resume) starts afresh, since nothing was checkpointed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { CLI, ROOT, within } from '../helpers/cluster.js';
import { GOLDEN } from '../helpers/golden.js';

const WORKER_GRACE_MS = 10_000;
const COORDINATOR_GRACE_MS = 30_000;
const GOLDEN_SAMPLE = GOLDEN.find((g) => g.config === 'config_sample')!;

const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-termination-'));
const TOKEN_FILE = join(tmp, 'token');
writeFileSync(TOKEN_FILE, 'termination-test-token-0123456789abcdef\n', { mode: 0o600 });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Proc {
  kill: (signal: NodeJS.Signals) => void;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Proc[] = [];
afterAll(() => started.forEach((p) => p.kill('SIGKILL')));

function mnistLr(...args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const p = { kill: (s: NodeJS.Signals) => void (child.exitCode === null && child.kill(s)), output: () => text, exited };
  started.push(p);
  return p;
}

/** Waits for `predicate`, up to `ms`; on a timeout the error shows what the processes printed. */
async function until(predicate: () => boolean | Promise<boolean>, ms: number, what: string, ...shown: Proc[]): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${shown.map((p) => `\n--- output:\n${p.output()}`).join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A TCP port nobody listens on (it was free a moment ago). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The coordinator's /status on loopback (open there), or undefined while it is not listening. */
async function status(port: number): Promise<{ state: string; progress: { step: number }; workers: { label: string; state: string }[]; counters: Record<string, Record<string, number>> } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/status`);
    return res.ok ? ((await res.json()) as Awaited<ReturnType<typeof status>>) : undefined;
  } catch {
    return undefined;
  }
}

describe('SIGTERM to a worker', () => {
  it('mid-run: it leaves at once with WORKER_SHUTDOWN, and the run ends with the golden weights without waiting for a deadline', async () => {
    const port = await freePort();
    const out = join(tmp, 'worker-mid-run');
    const coordinator = mnistLr('coordinator', '--config', `configs/${GOLDEN_SAMPLE.config}.json`, '--epochs', String(GOLDEN_SAMPLE.epochs), '--port', String(port), '--min-workers', '2', '--step-timeout', '3600', '--token-file', TOKEN_FILE, '--out', out);
    await until(async () => (await status(port)) !== undefined, 60_000, 'the coordinator to listen', coordinator);
    const url = `ws://127.0.0.1:${port}`;
    const [stays, leaves] = ['stays', 'leaves'].map((label) => mnistLr('worker', '--connect', url, '--token-file', TOKEN_FILE, '--label', label));
    await until(async () => ((await status(port))?.progress.step ?? 0) >= 500, 120_000, 'step 500', coordinator, stays!, leaves!);
    leaves!.kill('SIGTERM');
    const left = await within(leaves!.exited, WORKER_GRACE_MS, 'the worker to exit within its grace period');
    expect(left, leaves!.output()).toEqual({ code: 0, signal: null });
    expect(leaves!.output()).toMatch(/worker: stopped by SIGTERM; left the run after \d+ slices\n/);
    const seen = await status(port);
    expect(seen?.state, 'the worker left mid-run').toBe('training');
    expect(seen?.workers.find((w) => w.label === 'leaves')?.state).toBe('gone');

    const done = await within(coordinator.exited, 120_000, 'the run to complete with one worker');
    expect(done, coordinator.output()).toEqual({ code: 0, signal: null });
    expect(coordinator.output()).toMatch(/worker \d+ \(leaves\) left: \[WORKER_SHUTDOWN\] the worker was stopped and left/);
    expect(coordinator.output()).not.toContain('STEP_DEADLINE');
    expect(await within(stays!.exited, WORKER_GRACE_MS, 'the other worker to finish')).toEqual({ code: 0, signal: null });
    const evaluated = mnistLr('eval', '--model', join(out, `models/${GOLDEN_SAMPLE.config}.model.json`));
    await within(evaluated.exited, 60_000, 'eval');
    expect(evaluated.output()).toContain(`\nweights sha256 ${GOLDEN_SAMPLE.sha256}\n`);
  }, 240_000);

  it('while it retries an unreachable coordinator: it leaves at once; left alone it gives up after --retry-for and exits 1', async () => {
    const url = `ws://127.0.0.1:${await freePort()}`;
    const waiting = mnistLr('worker', '--connect', url, '--token-file', TOKEN_FILE, '--retry-for', '600');
    await until(() => waiting.output().includes('retrying for up to 600 s'), 60_000, 'the worker to start retrying');
    waiting.kill('SIGTERM');
    expect(await within(waiting.exited, WORKER_GRACE_MS, 'the retrying worker to exit')).toEqual({ code: 0, signal: null });
    expect(waiting.output()).toContain('worker: stopped by SIGTERM; left the run after 0 slices');

    const lost = mnistLr('worker', '--connect', url, '--token-file', TOKEN_FILE, '--retry-for', '2');
    expect(await within(lost.exited, 60_000, 'the worker to give up')).toEqual({ code: 1, signal: null });
    expect(lost.output()).toMatch(/^error \[PEER_ERROR\]: \[UNREACHABLE\] could not reach a coordinator at ws:\/\/127\.0\.0\.1:\d+\/ after \d+ attempts over \d+ s/m);
  }, 120_000);
});

describe('SIGTERM to a coordinator', () => {
  it('before its first step: exit 130; the same arguments again (--resume) start afresh, as nothing was checkpointed', async () => {
    const port = await freePort();
    const out = join(tmp, 'coordinator-waiting');
    const args = ['coordinator', '--config', 'configs/config_1.json', '--port', String(port), '--min-workers', '2', '--token-file', TOKEN_FILE, '--out', out, '--resume'];
    const first = mnistLr(...args);
    await until(async () => (await status(port))?.state === 'waiting', 60_000, 'the coordinator to wait for workers');
    first.kill('SIGTERM');
    expect(await within(first.exited, COORDINATOR_GRACE_MS, 'the coordinator to exit within its grace period'), first.output()).toEqual({ code: 130, signal: null });
    expect(first.output()).toContain('--resume: no checkpoint at');
    expect(first.output()).toMatch(/error \[INTERRUPTED\]: interrupted by SIGTERM before its first step; nothing was checkpointed/);

    const again = mnistLr(...args);
    await until(async () => (await status(port))?.state === 'waiting', 60_000, 'the restarted coordinator to wait for workers');
    expect(again.output()).toContain('--resume: no checkpoint at');
    again.kill('SIGTERM');
    expect((await within(again.exited, COORDINATOR_GRACE_MS, 'the restarted coordinator to exit')).code).toBe(130);
  }, 120_000);
});
