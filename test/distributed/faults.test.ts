import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defaultMnistDir, kernelFingerprint, loadTrainingData, train, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { encodeMessage, REASONS } from '@mnist-lr/core/protocol';
import { firstDifference, originConfig, startProcessWorker, startThreadWorker, waitFor, type ProcessWorker } from '../helpers/cluster.js';

// Faults that are part of a step (DESIGN.md §6): the run completes and its weights are those of
// the undisturbed in-process run, to the bit.
const config = originConfig('config_1', { num_epoches: 2 });
let data: TrainingData;
let reference: Weights;
let tmp: string;

beforeAll(async () => {
  data = loadTrainingData();
  reference = (await train({ config, data })).weights;
  tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-faults-'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function token(): string {
  return `token-${Math.random().toString(36).slice(2)}`;
}

describe('a worker process killed with SIGKILL mid-epoch', () => {
  it('loses its slice to the live workers; the run completes with the undisturbed weights', async () => {
    const secret = token();
    let victim: ProcessWorker | undefined;
    let killedAtStep = -1;
    const coordinator = await Coordinator.start({
      config,
      data,
      token: secret,
      minWorkers: 3,
      workerWaitMs: 30_000,
      hooks: {
        // Between two steps of epoch 1: the next step is split three ways and sent at once,
        // before the coordinator can see the connection drop, so the victim's slice is lost.
        onStep: (info) => {
          if (info.epoch === 0 && info.step === 250 && victim) {
            victim.child.kill('SIGKILL');
            killedAtStep = info.step;
          }
        },
      },
    });
    const workers = [0, 1, 2].map(() => startProcessWorker(coordinator.url, secret));
    victim = workers[1];
    try {
      const state = await coordinator.run();
      expect(killedAtStep).toBe(250);
      expect(coordinator.reassigned).toBeGreaterThanOrEqual(1);
      expect(firstDifference(state.weights, reference)).toBe(-1);
      const [a, killed, c] = await Promise.all(workers.map((w) => w.done));
      expect(killed!.signal).toBe('SIGKILL');
      expect(a!.code, a!.output).toBe(0);
      expect(c!.code, c!.output).toBe(0);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await coordinator.close();
    }
  });
});

describe('a worker that joins mid-run', () => {
  it('gets slices from the next step on, and the weights are unchanged', async () => {
    const secret = token();
    let late: ProcessWorker | undefined;
    const coordinator = await Coordinator.start({
      config,
      data,
      token: secret,
      minWorkers: 1,
      workerWaitMs: 30_000,
      hooks: {
        onStep: async (info) => {
          if (info.epoch === 0 && info.step === 100) {
            late = startProcessWorker(coordinator.url, secret);
            // Hold the loop until it has joined, so the test knows it took part.
            await waitFor(() => coordinator.workers === 2, 20_000, 'the late worker to join');
          }
        },
      },
    });
    const first = startThreadWorker(coordinator.url, secret, 'first');
    try {
      const state = await coordinator.run();
      expect(firstDifference(state.weights, reference)).toBe(-1);
      const done = await late!.done;
      expect(done.code, done.output).toBe(0);
      // 1,200 steps in all, the last 1,100 shared by two workers: the late one computed slices.
      const slices = Number(/(\d+) slices computed/.exec(done.output)?.[1]);
      expect(slices).toBe(1100);
      expect((await first.done).tasks).toBe(1200);
    } finally {
      late?.child.kill('SIGKILL');
      await first.worker.terminate();
      await coordinator.close();
    }
  });
});

describe('refusals: wrong token, other protocol, other dataset', () => {
  it('are refused with a coded reason the worker prints, and the run goes on', async () => {
    const secret = token();
    const log: string[] = [];
    // Another dataset: the real files with one test label changed (still a valid IDX file).
    const otherData = join(tmp, 'other-mnist');
    cpSync(defaultMnistDir(), otherData, { recursive: true });
    const labels = join(otherData, 't10k-labels-idx1-ubyte');
    const bytes = readFileSync(labels);
    bytes[8] = (bytes[8]! + 1) % 10;
    writeFileSync(labels, bytes);

    const refused: Record<string, { code: number | null; output: string }> = {};
    let protocolClose: { code: number; reason: string } | undefined;
    const coordinator = await Coordinator.start({
      config,
      data,
      token: secret,
      minWorkers: 1,
      workerWaitMs: 30_000,
      log: (line) => log.push(line),
      hooks: {
        onStep: async (info) => {
          if (info.epoch !== 0 || info.step !== 50) return;
          // Mid-run, three intruders try to join.
          const wrongToken = startProcessWorker(coordinator.url, 'not-the-token');
          const wrongData = startProcessWorker(coordinator.url, secret, ['--data-dir', otherData]);
          protocolClose = await helloWithProtocol(coordinator.url, secret, 999);
          refused.token = await wrongToken.done;
          refused.data = await wrongData.done;
        },
      },
    });
    const good = startThreadWorker(coordinator.url, secret, 'good');
    try {
      const state = await coordinator.run();
      expect(firstDifference(state.weights, reference)).toBe(-1);
      expect(refused.token!.code).not.toBe(0);
      expect(refused.token!.output).toContain('[BAD_TOKEN]');
      expect(refused.data!.code).not.toBe(0);
      expect(refused.data!.output).toContain('[DATASET_MISMATCH]');
      expect(protocolClose).toEqual({ code: REASONS.PROTOCOL_MISMATCH.close, reason: expect.stringContaining('protocol 999') });
      expect(log.some((l) => l.includes('[BAD_TOKEN]'))).toBe(true);
      expect(log.some((l) => l.includes('[DATASET_MISMATCH]'))).toBe(true);
      expect(log.some((l) => l.includes('[PROTOCOL_MISMATCH]'))).toBe(true);
      expect((await good.done).reason).toBe('RUN_COMPLETE');
    } finally {
      await good.worker.terminate();
      await coordinator.close();
    }
  });
});

/** A client that speaks another protocol version: how the coordinator closes it. */
function helloWithProtocol(url: string, secret: string, protocol: number): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${secret}` } });
    const timer = setTimeout(() => reject(new Error('no close within 10 s')), 10_000);
    ws.on('open', () => ws.send(encodeMessage({ type: 'hello', protocol, dataset: data.fingerprint, kernel: kernelFingerprint(), worker: 'old' })));
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
    ws.on('error', () => {});
  });
}

describe('with no worker left', () => {
  it('the coordinator waits the configured time, then stops with NO_WORKERS', async () => {
    const secret = token();
    let thread: ReturnType<typeof startThreadWorker> | undefined;
    const log: string[] = [];
    const coordinator = await Coordinator.start({
      config,
      data,
      token: secret,
      minWorkers: 1,
      workerWaitMs: 1500,
      log: (line) => log.push(line),
      hooks: {
        // The only worker goes away between two steps of epoch 1.
        onStep: async (info) => {
          if (info.epoch === 0 && info.step === 20) await thread!.worker.terminate();
        },
      },
    });
    thread = startThreadWorker(coordinator.url, secret, 'only');
    try {
      // The short wait is for the one after the worker left: on a loaded machine a thread takes
      // longer than that to load the data and join, so the run starts once it has.
      await waitFor(() => coordinator.workers === 1, 60_000, 'the worker thread to join');
      await expect(coordinator.run()).rejects.toMatchObject({ code: 'NO_WORKERS', message: expect.stringContaining('no worker joined within 2 s') });
      expect(log.some((l) => l.includes('waiting up to 2 s for one to join'))).toBe(true);
    } finally {
      await coordinator.close();
    }
  });

  it('nor at the start: only 0 of 2 workers joined', async () => {
    const coordinator = await Coordinator.start({ config, data, token: token(), minWorkers: 2, workerWaitMs: 300 });
    try {
      await expect(coordinator.run()).rejects.toMatchObject({ code: 'NO_WORKERS', message: expect.stringContaining('only 0 of 2 workers joined') });
    } finally {
      await coordinator.close();
    }
  });
});
