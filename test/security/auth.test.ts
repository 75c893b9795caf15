import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { kernelFingerprint, loadTrainingData, train, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { decodeCoordinatorMessage, encodeMessage, PROTOCOL_VERSION, REASONS } from '@mnist-lr/core/protocol';
import { firstDifference, originConfig, startThreadWorker } from '../helpers/cluster.js';

const config = originConfig('config_1', { num_epoches: 1 });
let data: TrainingData;
let reference: Weights;

beforeAll(async () => {
  data = loadTrainingData();
  reference = (await train({ config, data })).weights;
});

/** Opens a connection with `token`; resolves with the HTTP status of a refusal, or 101. */
function knock(url: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => {});
  });
}

describe('failed authentications', () => {
  let coordinator: Coordinator;
  const refusals: string[] = [];
  beforeAll(async () => {
    coordinator = await Coordinator.start({
      config,
      data,
      token: 'the-token',
      authLimits: { freeFailures: 3, baseDelayMs: 20, maxDelayMs: 80, forgetAfterMs: 60_000, maxTracked: 100 },
      log: (line) => refusals.push(line),
    });
  });
  afterAll(() => coordinator.close());

  it('are answered at once three times, then slowed down, doubling up to a limit, and logged', async () => {
    for (let i = 0; i < 20; i++) expect(await knock(coordinator.url, `guess-${i}`)).toBe(401);
    const lines = refusals.filter((l) => l.includes('[BAD_TOKEN]'));
    // Logged: the first eight, then the 16th; each says how many came from this address.
    expect(lines).toHaveLength(9);
    expect(lines[0]).toContain('(1 from this address)');
    expect(lines[3]).toContain('(4 from this address; answers now delayed 20 ms)');
    expect(lines[4]).toContain('(5 from this address; answers now delayed 40 ms)');
    expect(lines[5]).toContain('delayed 80 ms');
    expect(lines[8]).toContain('(16 from this address; answers now delayed 80 ms)');
    // The right token still gets in, and clears the record.
    expect(await knock(coordinator.url, 'the-token')).toBe(101);
    expect(await knock(coordinator.url, 'wrong-again')).toBe(401);
    expect(refusals.at(-1)).toContain('(1 from this address)');
  });
});

describe('a worker that sends non-finite sums', () => {
  it('is evicted with BAD_RESULT, its slice is recomputed elsewhere, and the weights are unchanged', async () => {
    const token = 'nan-token';
    const coordinator = await Coordinator.start({ config, data, token, minWorkers: 2, workerWaitMs: 30_000 });
    const honest = startThreadWorker(coordinator.url, token, 'honest');
    let closed: { code: number; reason: string } | undefined;
    let tasks = 0;
    const liar = new WebSocket(coordinator.url, { headers: { authorization: `Bearer ${token}` } });
    liar.on('open', () => liar.send(encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, dataset: data.fingerprint, kernel: kernelFingerprint(), worker: 'liar' })));
    liar.on('message', (bytes: Buffer) => {
      const m = decodeCoordinatorMessage(bytes);
      if (m.type !== 'task') return;
      tasks++;
      const gW = new Float64Array(7840);
      gW[tasks % 7840] = Number.NaN;
      liar.send(encodeMessage({ type: 'result', task: m.task, sums: { gW, gb: new Float64Array(10), loss: 0, correct: 0, count: m.indices.length }, rows: null }));
    });
    liar.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
    try {
      const state = await coordinator.run();
      expect(tasks).toBe(1);
      expect(closed).toMatchObject({ code: REASONS.BAD_RESULT.close });
      expect(closed!.reason).toContain('not finite');
      expect(coordinator.reassigned).toBe(1);
      expect(firstDifference(state.weights, reference)).toBe(-1);
      expect((await honest.done).reason).toBe('RUN_COMPLETE');
    } finally {
      liar.terminate();
      await honest.worker.terminate();
      await coordinator.close();
    }
  });
});
