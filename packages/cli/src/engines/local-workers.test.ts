import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultMnistDir, loadConfig, loadTrainingData, type TrainingData } from '@mnist-lr/core';
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
    // The threads read MNIST with one test label changed: another dataset than the coordinator's.
    const other = join(tmp, 'other-mnist');
    cpSync(defaultMnistDir(), other, { recursive: true });
    const labels = join(other, 't10k-labels-idx1-ubyte');
    const bytes = readFileSync(labels);
    bytes[8] = (bytes[8]! + 1) % 10;
    writeFileSync(labels, bytes);

    const lines: string[] = [];
    const stop = new AbortController();
    const engine = localWorkersEngine({
      workers: 1,
      mode: 'thread',
      dataDir: other,
      log: (line) => {
        lines.push(line);
        // Without the thread's own report the coordinator would wait a minute for a worker.
        if (line.startsWith('worker thread 1 stopped')) stop.abort();
      },
    });
    await expect(engine.run({ config, data, hooks: {}, signal: stop.signal })).rejects.toThrow(/interrupted/);
    const told = lines.find((l) => l.startsWith('worker thread 1 stopped'));
    expect(told).toMatch(/^worker thread 1 stopped: \[DATASET_MISMATCH\] .*worker dataset [0-9a-f]{12}…, coordinator [0-9a-f]{12}…/);
  });

  it('that train without trouble add no line to the run', async () => {
    const lines: string[] = [];
    const engine = localWorkersEngine({ workers: 2, mode: 'thread', log: (line) => lines.push(line) });
    // Two epochs: each thread tells of its first epoch while the second runs.
    const outcome = await engine.run({ config: { ...config, num_epoches: 2 }, data, hooks: {} });
    await outcome.release?.();
    expect(outcome.history).toHaveLength(2);
    // The dashboard's address and the coordinator's wait for its workers are all such a run shows.
    const expected = [/^dashboard: http:\/\/127\.0\.0\.1:\d+\//, /^waiting for 2 workers at ws:\/\/127\.0\.0\.1:\d+ /];
    expect(lines.filter((l) => !expected.some((e) => e.test(l)))).toEqual([]);
    expect(lines).toHaveLength(2);
  });
});
