import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainingData, train, type TrainingData, type Weights } from '@mnist-lr/core';
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

async function distributed(workers: number): Promise<{ weights: Weights; tasks: number[] }> {
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
    const { weights, tasks } = await distributed(n);
    expect(firstDifference(weights, reference)).toBe(-1);
    // Every thread took part: each step is split across all live workers (600 steps × 2 epochs).
    for (const t of tasks) expect(t).toBe(1200);
  });
});
