import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainingData, train, type TrainConfig, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { firstDifference, originConfig, startThreadWorker } from '../helpers/cluster.js';

// Two epochs of config_1 on the full data: the in-process run is the reference every
// distributed run must reproduce to the bit (DESIGN.md §2).
const config = originConfig('config_1', { num_epoches: 2 });
let data: TrainingData;
let reference: Weights;

beforeAll(async () => {
  data = loadTrainingData();
  reference = (await train({ config, data })).weights;
});

async function distributed(workers: number, config: TrainConfig): Promise<{ weights: Weights; tasks: number[] }> {
  const token = `t-${workers}-${Date.now()}`;
  const coordinator = await Coordinator.start({ config, data, token, minWorkers: workers, workerWaitMs: 30_000 });
  const threads = Array.from({ length: workers }, (_, i) => startThreadWorker(coordinator.url, token, `thread-${i}`));
  try {
    const state = await coordinator.run();
    const outcomes = await Promise.all(threads.map((t) => t.done));
    for (const o of outcomes) expect(o.reason).toBe('RUN_COMPLETE');
    return { weights: state.weights, tasks: outcomes.map((o) => o.tasks) };
  } finally {
    await coordinator.close();
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}

describe('worker threads over WebSocket', () => {
  it.each([1, 2, 3])('%i worker thread(s) give the in-process weights bit for bit', async (n) => {
    const { weights, tasks } = await distributed(n, config);
    expect(firstDifference(weights, reference)).toBe(-1);
    // Every thread took part: each step is split across all live workers (600 steps × 2 epochs).
    for (const t of tasks) expect(t).toBe(1200);
  });

  it('2 worker threads at batch 10 (sparse results, sparse updates) give the in-process weights bit for bit', async () => {
    // Slices of 5 images: every result lists its rows, and with plain SGD the coordinator updates
    // only the rows the results listed, as the in-process trainer updates only the rows it touched.
    const small = originConfig('config_sample', { num_epoches: 1 });
    expect([small.batch_size, small.momentum, small.weight_decay]).toEqual([10, 0, 0]);
    const expected = (await train({ config: small, data })).weights;
    const { weights, tasks } = await distributed(2, small);
    expect(firstDifference(weights, expected)).toBe(-1);
    expect(tasks).toEqual([6000, 6000]);
  });
});
