import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainingData, train, weightsSha256, type TrainConfig, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { firstDifference, originConfig, startProcessWorker, startThreadWorker, type ThreadWorker } from '../helpers/cluster.js';
import { GOLDEN } from '../helpers/golden.js';

// Two epochs of config_1 on the full data: the in-process run is the reference every
// distributed run must reproduce to the bit (DESIGN.md §2), whatever carries its steps: worker
// threads over shared memory, worker threads over WebSocket, worker processes over WebSocket,
// with or without the coordinator's own thread computing a share.
const golden = GOLDEN.find((g) => g.config === 'config_1')!;
const config = originConfig('config_1', { num_epoches: golden.epochs });
/** The README's golden hash of config_1 after 2 epochs. */
const GOLDEN_1 = golden.sha256;
let data: TrainingData;
let reference: Weights;

beforeAll(async () => {
  data = loadTrainingData();
  reference = (await train({ config, data })).weights;
  expect(weightsSha256(reference)).toBe(GOLDEN_1);
});

interface Setup {
  /** Worker threads whose tasks go through shared memory. */
  shared?: number;
  /** Worker threads over WebSocket. */
  threads?: number;
  /** Worker processes over WebSocket. */
  processes?: number;
  /** The coordinator's own thread computes a share (of every step: not only when that is faster). */
  computeShare?: boolean;
}

interface Outcome {
  weights: Weights;
  /** Slices each worker computed, in the order shared, threads, processes. */
  tasks: number[];
  /** WebSocket frames the coordinator sent: with shared memory, only the handshakes and the end. */
  framesOut: number;
  transports: string[];
}

async function run(setup: Setup, cfg: TrainConfig = config): Promise<Outcome> {
  const token = `t-${Math.random().toString(36).slice(2)}`;
  const shared = setup.shared ?? 0;
  const threads = setup.threads ?? 0;
  const processes = setup.processes ?? 0;
  const coordinator = await Coordinator.start({ config: cfg, data, token, minWorkers: shared + threads + processes, workerWaitMs: 30_000, computeShare: setup.computeShare ?? false, adaptive: false });
  const started: ThreadWorker[] = [];
  for (let i = 0; i < shared; i++) started.push(startThreadWorker(coordinator.url, token, `shared-${i}`, { data, slot: coordinator.threadSlot() }));
  for (let i = 0; i < threads; i++) started.push(startThreadWorker(coordinator.url, token, `thread-${i}`, { data }));
  const procs = Array.from({ length: processes }, () => startProcessWorker(coordinator.url, token, ['--label', 'process']));
  try {
    const state = await coordinator.run();
    const transports = coordinator.monitor.status().workers.map((w) => w.transport);
    const outcomes = await Promise.all(started.map((t) => t.done));
    for (const o of outcomes) expect(o.reason).toBe('RUN_COMPLETE');
    const exits = await Promise.all(procs.map((p) => p.done));
    for (const e of exits) expect(e.code, e.output).toBe(0);
    const procTasks = exits.map((e) => Number(/(\d+) slices? computed/.exec(e.output)?.[1] ?? NaN));
    return { weights: state.weights, tasks: [...outcomes.map((o) => o.tasks), ...procTasks], framesOut: coordinator.traffic.framesOut, transports };
  } finally {
    await coordinator.close();
    await Promise.all(started.map((t) => t.worker.terminate()));
    for (const p of procs) p.child.kill('SIGKILL');
  }
}

describe('every transport gives the in-process weights, bit for bit', () => {
  it.each([1, 2, 3])('%i worker thread(s) over shared memory', async (n) => {
    const { weights, tasks, framesOut, transports } = await run({ shared: n });
    expect(firstDifference(weights, reference)).toBe(-1);
    expect(weightsSha256(weights)).toBe(GOLDEN_1);
    expect(transports).toEqual(Array(n).fill('shared memory'));
    // Every thread took part in every step (600 steps × 2 epochs)...
    for (const t of tasks) expect(t).toBe(1200);
    // ...and none of it went over WebSocket: a welcome and a goodbye per thread, and pings.
    expect(framesOut).toBeLessThan(10 * n);
  });

  it.each([1, 2, 3])('%i worker thread(s) over WebSocket', async (n) => {
    const { weights, tasks, framesOut, transports } = await run({ threads: n });
    expect(weightsSha256(weights)).toBe(GOLDEN_1);
    expect(transports).toEqual(Array(n).fill('WebSocket'));
    for (const t of tasks) expect(t).toBe(1200);
    expect(framesOut).toBeGreaterThan(1200 * n);
  });

  it('the coordinator computing a share, beside a thread over shared memory, a thread over WebSocket and a process', async () => {
    const { weights, tasks, transports } = await run({ shared: 1, threads: 1, processes: 1, computeShare: true });
    expect(firstDifference(weights, reference)).toBe(-1);
    expect(weightsSha256(weights)).toBe(GOLDEN_1);
    expect([...transports].sort()).toEqual(['WebSocket', 'WebSocket', 'shared memory']);
    // Every party took part; a worker still busy with a late slice sits a step out, and the
    // coordinator computes a late shared-memory slice itself, so not every step has all four.
    expect(tasks).toHaveLength(3);
    for (const t of tasks) expect(t).toBeGreaterThan(100);
  });

  it('the coordinator computing alone (computeShare, no worker)', async () => {
    const { weights } = await run({ computeShare: true });
    expect(weightsSha256(weights)).toBe(GOLDEN_1);
  });

  it('batch 10 (results and weight updates of a few rows), the coordinator and 2 threads over shared memory', async () => {
    // Slices of 3-4 images: every result lists its rows, the board carries only the rows a step
    // changed, and with plain SGD the update touches only the rows the step's results listed.
    const sample = GOLDEN.find((g) => g.config === 'config_sample')!;
    const small = originConfig('config_sample', { num_epoches: sample.epochs });
    expect([small.batch_size, small.momentum, small.weight_decay]).toEqual([10, 0, 0]);
    const expected = (await train({ config: small, data })).weights;
    expect(weightsSha256(expected)).toBe(sample.sha256);
    const { weights, tasks } = await run({ shared: 2, computeShare: true }, small);
    expect(firstDifference(weights, expected)).toBe(-1);
    for (const t of tasks) expect(t).toBeGreaterThan(100);
  });

  it('momentum and weight decay (every row changes every step: the board carries all of W), over shared memory', async () => {
    const heavy = originConfig('config_2', { num_epoches: 1, weight_decay: 0.0001 });
    const expected = (await train({ config: heavy, data })).weights;
    const { weights } = await run({ shared: 2, computeShare: true }, heavy);
    expect(firstDifference(weights, expected)).toBe(-1);
  });
});
