import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadTrainingData, parseConfig, train, type TrainingData } from '@mnist-lr/core';

import { localWorkersEngine } from './local-workers.js';

const empty = mkdtempSync(join(tmpdir(), 'mnist-lr-no-data-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
});

describe('local worker threads', () => {
  it("read the coordinator's data from shared memory and give the in-process weights bit for bit", async () => {
    const config = parseConfig({ num_epoches: 1, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'config_1');
    const lines: string[] = [];
    // The threads are pointed at a folder without MNIST: one that loaded its own copy would stop
    // with MNIST_MISSING_FILE and the run would wait for workers in vain.
    const engine = localWorkersEngine({ workers: 2, mode: 'thread', dataDir: empty, log: (l) => lines.push(l) });
    const outcome = await engine.run({ config, data, hooks: {} });
    const expected = (await train({ config, data })).weights;
    expect(lines.filter((l) => /failed|left|refused/.test(l))).toEqual([]);
    let same = true;
    for (let i = 0; i < expected.W.length; i++) if (outcome.weights.W[i] !== expected.W[i]) same = false;
    for (let k = 0; k < 10; k++) if (outcome.weights.b[k] !== expected.b[k]) same = false;
    expect(same).toBe(true);
  });
});
