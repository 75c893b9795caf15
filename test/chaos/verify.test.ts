/**
 * Verified results (--verify): workers that return well-formed, plausible, wrong sums are caught
 * by a second computation of their slices, evicted with RESULT_MISMATCH, and, with --verify 1, the
 * model is byte-identical to the in-process run. The liars are real worker threads over real
 * sockets whose result frames are corrupted on the way out (test/helpers/lying-worker.mjs).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, loadTrainingData, train, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { REASONS } from '@mnist-lr/core/protocol';
import { CLI, firstDifference, originConfig, ROOT, startThreadWorker, type ThreadWorker } from '../helpers/cluster.js';

const config = originConfig('config_1', { num_epoches: 1 });
let data: TrainingData;
let reference: Weights;

beforeAll(async () => {
  data = loadTrainingData();
  reference = (await train({ config, data })).weights;
});

interface Liar {
  worker: Worker;
  lies: () => number;
  done: Promise<{ reason: string; message: string; tasks: number }>;
}

function startLiar(url: string, token: string, lie: 'zeros' | 'scaled', every: number): Liar {
  const worker = new Worker(new URL('../helpers/lying-worker.mjs', import.meta.url), { workerData: { url, token, label: `liar (${lie}, every ${every})`, lie, every } });
  let lies = 0;
  const done = new Promise<{ reason: string; message: string; tasks: number }>((resolve, reject) => {
    worker.on('message', (m: { type: string; count?: number; outcome?: { reason: string; message: string; tasks: number } }) => {
      if (m.type === 'lied') lies = m.count!;
      if (m.type === 'exit') resolve(m.outcome!);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => resolve({ reason: 'EXITED', message: `thread exited with ${code}`, tasks: 0 }));
  });
  return { worker, lies: () => lies, done };
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((f) => f()));
});

/** A coordinator with two honest workers and one liar; returns what happened. */
async function runWithLiar(verify: number, lie: 'zeros' | 'scaled', every: number) {
  const token = `verify-${lie}-${every}`;
  const log: string[] = [];
  let steps = 0;
  let caughtAtStep: number | undefined;
  const coordinator: Coordinator = await Coordinator.start({
    config,
    data,
    token,
    verify,
    minWorkers: 3,
    workerWaitMs: 60_000,
    log: (l) => log.push(l),
    hooks: {
      onStep: () => {
        steps++;
        if (caughtAtStep === undefined && (coordinator.evicted.RESULT_MISMATCH ?? 0) > 0) caughtAtStep = steps;
      },
    },
  });
  const honest: ThreadWorker[] = [startThreadWorker(coordinator.url, token, 'honest 1'), startThreadWorker(coordinator.url, token, 'honest 2')];
  const liar = startLiar(coordinator.url, token, lie, every);
  cleanup.push(() => coordinator.close(), () => liar.worker.terminate(), ...honest.map((h) => () => h.worker.terminate()));
  const state = await coordinator.run();
  return { coordinator, state, log, liar: await liar.done, lies: liar.lies(), caughtAtStep, honest: await Promise.all(honest.map((h) => h.done)) };
}

describe('--verify 1: every slice computed twice', () => {
  for (const [lie, every] of [
    ['zeros', 1],
    ['scaled', 1],
    ['scaled', 50],
  ] as const) {
    it(`a worker returning ${lie === 'zeros' ? 'zeros' : 'sums scaled by 0.9'}${every > 1 ? ` on every ${every}th slice only` : ''} is evicted with RESULT_MISMATCH; the model is byte-identical to in-process`, async () => {
      const r = await runWithLiar(1, lie, every);
      expect(r.liar.reason).toBe('RESULT_MISMATCH');
      expect(r.liar.message).toContain(REASONS.RESULT_MISMATCH.text);
      // Caught in the step of its first lie, every slice being checked: it may have sent the
      // answers to its other tasks of that step (two or three) before the eviction reached it.
      expect(r.lies).toBeGreaterThanOrEqual(1);
      expect(r.lies).toBeLessThanOrEqual(3);
      expect(r.liar.tasks).toBeLessThan(every + 3);
      expect(r.coordinator.evicted.RESULT_MISMATCH).toBe(1);
      expect(r.coordinator.stats.verify.mismatches).toBe(1);
      expect(r.log.some((l) => /^worker \d \(liar .*\) left: \[RESULT_MISMATCH\]/.test(l))).toBe(true);
      expect(firstDifference(r.state.weights, reference)).toBe(-1);
      for (const h of r.honest) expect(h.reason).toBe('RUN_COMPLETE');
    });
  }

  it('with a single worker, the coordinator computes every slice too, and the weights are unchanged', async () => {
    const token = 'verify-alone';
    const coordinator = await Coordinator.start({ config, data, token, verify: 1, minWorkers: 1 });
    const only = startThreadWorker(coordinator.url, token, 'alone');
    cleanup.push(() => coordinator.close(), () => only.worker.terminate());
    const state = await coordinator.run();
    expect(firstDifference(state.weights, reference)).toBe(-1);
    expect(coordinator.stats.verify).toMatchObject({ verified: 600, byCoordinator: 600, mismatches: 0 });
    expect((await only.done).reason).toBe('RUN_COMPLETE');
  });
});

describe('--verify 0.1', () => {
  it('catches a worker returning zeros within 100 steps', async () => {
    // Its one slice a step is checked with probability 0.1: missed for 100 steps with
    // probability 0.9^100 ≈ 3·10⁻⁵.
    const r = await runWithLiar(0.1, 'zeros', 1);
    expect(r.liar.reason).toBe('RESULT_MISMATCH');
    expect(r.caughtAtStep).toBeDefined();
    expect(r.caughtAtStep!).toBeLessThanOrEqual(100);
    expect(r.coordinator.evicted.RESULT_MISMATCH).toBe(1);
    // About a tenth of the slices were computed twice.
    const verified = r.coordinator.stats.verify.verified;
    expect(verified).toBeGreaterThan(600 * 2 * 0.05);
    expect(verified).toBeLessThan(600 * 3 * 0.2);
  });
});

describe('mnist-lr train --verify', () => {
  it('--workers 2 --verify 1 trains to the in-process weights and ends with the counts', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mnist-lr-verify-'));
    try {
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
        execFile(process.execPath, [CLI, 'train', '--config', 'configs/config_1.json', '--epochs', '1', '--workers', '2', '--verify', '1', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 }, (error, stdout, stderr) => {
          done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
        });
      });
      expect(r.code, r.stderr).toBe(0);
      // 600 steps of two slices: the coordinator's own (trusted, not compared) and the worker
      // thread's, which the coordinator computes a second time, having no other worker.
      expect(r.stdout).toContain('--verify 1: 600 slices computed twice and compared (600 computations by the coordinator itself); 0 mismatches; 0 workers evicted for RESULT_MISMATCH\n');
      expect(firstDifference(loadModel(join(out, 'models/config_1.model.json')).weights, reference)).toBe(-1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
