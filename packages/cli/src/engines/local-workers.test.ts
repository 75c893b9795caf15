import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, loadTrainingData, parseConfig, train, type TrainingData } from '@mnist-lr/core/engine';
import { localWorkersEngine } from './local-workers.js';

// Real worker threads (the built dist/) on a real loopback coordinator: what a thread says
// reaches the user through the engine's log, and a healthy run says nothing extra.

const config = { ...loadConfig(fileURLToPath(new URL('../../../../configs/config_1.json', import.meta.url))).config, num_epoches: 1 };
let data: TrainingData;
let tmp: string;

beforeAll(() => {
  data = loadTrainingData();
  tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-local-workers-'));
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('local worker threads', () => {
  it("report a refusal: the thread's reason reaches the user", async () => {
    // The threads get the coordinator's shared data (workerData), so another dataset is made by
    // changing the fingerprint once the coordinator has taken its own (its dashboard line comes
    // before the threads start): the threads then say they hold another dataset.
    const shared = { ...data };
    const lines: string[] = [];
    let refused: () => void;
    const told = new Promise<void>((resolve) => (refused = resolve));
    // Two parties: the coordinator's own thread and one worker thread. The run starts at once on
    // the coordinator's thread; it waits at its first epoch's end for the thread's report.
    const engine = localWorkersEngine({
      workers: 2,
      mode: 'thread',
      log: (line) => {
        if (line.startsWith('dashboard: ')) (shared as { fingerprint: string }).fingerprint = 'f'.repeat(data.fingerprint.length);
        lines.push(line);
        if (line.startsWith('worker thread 1 stopped')) refused();
      },
    });
    const outcome = await engine.run({ config, data: shared, hooks: { onEpoch: () => told }, signal: undefined });
    await outcome.release?.();
    // The run completed without the refused thread, and said why it went on alone.
    expect(outcome.history).toHaveLength(1);
    const line = lines.find((l) => l.startsWith('worker thread 1 stopped'));
    expect(line).toMatch(/^worker thread 1 stopped: \[DATASET_MISMATCH\] .*worker dataset [0-9a-f]{12}…, coordinator [0-9a-f]{12}…/);
  });

  it('that train without trouble add no line to the run', async () => {
    const lines: string[] = [];
    const engine = localWorkersEngine({ workers: 3, mode: 'thread', log: (line) => lines.push(line) });
    // Two epochs: each thread tells of its first epoch while the second runs.
    const outcome = await engine.run({ config: { ...config, num_epoches: 2 }, data, hooks: {} });
    await outcome.release?.();
    expect(outcome.history).toHaveLength(2);
    // The dashboard's address and the join link are all such a run shows (training starts at once:
    // no wait for workers).
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/ /);
    expect(lines[1]).toMatch(/^join from a browser: http:\/\/127\.0\.0\.1:\d+\/join\/#[\w-]{43}$/);
  });

  it("read the coordinator's data from shared memory and give the in-process weights bit for bit", async () => {
    const cfg = parseConfig({ num_epoches: 1, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'config_1');
    const lines: string[] = [];
    // The threads are pointed at a folder without MNIST: one that loaded its own copy would stop
    // with MNIST_MISSING_FILE and the run would wait for workers in vain.
    const engine = localWorkersEngine({ workers: 2, mode: 'thread', dataDir: tmp, log: (l) => lines.push(l) });
    const outcome = await engine.run({ config: cfg, data, hooks: {} });
    const expected = (await train({ config: cfg, data })).weights;
    expect(lines.filter((l) => /failed|left|refused/.test(l))).toEqual([]);
    let same = true;
    for (let i = 0; i < expected.W.length; i++) if (outcome.weights.W[i] !== expected.W[i]) same = false;
    for (let k = 0; k < 10; k++) if (outcome.weights.b[k] !== expected.b[k]) same = false;
    expect(same).toBe(true);
    await outcome.release?.();
  });
});
