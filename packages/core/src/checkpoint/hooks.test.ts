import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/schema.js';
import { loadTrainingData } from '../data/training-data.js';
import type { Weights } from '../math/model.js';
import type { StepInfo, TrainingData } from '../train/engine.js';
import { train } from '../train/trainer.js';
import type { EpochMetrics, TrainConfig } from '../types.js';
import { checkCompatible, loadCheckpoint } from './file.js';
import { checkpointHooks, type CheckpointWrite } from './hooks.js';

const configPath = (name: string): string => fileURLToPath(new URL(`../../../../configs/${name}`, import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'mnist-lr-ckpt-hooks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
});

function bitDifferences(a: Weights, b: Weights): number {
  let n = 0;
  for (let i = 0; i < a.W.length; i++) if (!Object.is(a.W[i], b.W[i])) n++;
  for (let k = 0; k < a.b.length; k++) if (!Object.is(a.b[k], b.b[k])) n++;
  return n;
}

const withoutSeconds = (h: EpochMetrics[]): Array<Omit<EpochMetrics, 'seconds'>> => h.map(({ seconds: _s, ...rest }) => rest);

describe('checkpointHooks', () => {
  it('writes every N global steps and at each epoch end, after the wrapped hooks, with the epoch already in the history', async () => {
    const config: TrainConfig = { ...loadConfig(configPath('config_1.json')).config, num_epoches: 2 };
    const path = join(root, 'a', 'config_1.ckpt');
    const writes: CheckpointWrite[] = [];
    const events: string[] = [];
    const result = await train({
      config,
      data,
      hooks: checkpointHooks({
        path,
        every: 250,
        name: 'config_1',
        config,
        dataset: data.fingerprint,
        hooks: {
          onStep: (info) => {
            if ((info.epoch * info.steps + info.step) % 250 === 0) events.push(`step ${info.epoch}:${info.step}`);
          },
          onEpoch: async (m, state) => {
            await new Promise((r) => setTimeout(r, 1));
            events.push(`epoch ${m.epoch} (history ${state.history.length})`);
          },
        },
        onWrite: (w) => {
          writes.push(w);
          events.push(`write ${w.globalStep}`);
        },
      }),
    });
    // 600 steps an epoch: global steps 250, 500 | 750, 1000 | 1200 is epoch 2's end.
    expect(events).toEqual([
      'step 0:250', 'write 250', 'step 0:500', 'write 500', 'epoch 1 (history 1)', 'write 600',
      'step 1:150', 'write 750', 'step 1:400', 'write 1000', 'epoch 2 (history 2)', 'write 1200',
    ]);
    expect(writes.map((w) => [w.epoch, w.step, w.epochEnd])).toEqual([
      [0, 250, false], [0, 500, false], [1, 0, true], [1, 150, false], [1, 400, false], [2, 0, true],
    ]);
    // The final checkpoint is the finished run.
    const last = loadCheckpoint(path);
    expect(last.state.epoch).toBe(2);
    expect(bitDifferences(last.state.weights, result.weights)).toBe(0);
    expect(last.state.history).toEqual(result.history);
  });

  it('every 0: only at epoch ends', async () => {
    const config: TrainConfig = { ...loadConfig(configPath('config_1.json')).config, num_epoches: 1 };
    const writes: CheckpointWrite[] = [];
    await train({ config, data, hooks: checkpointHooks({ path: join(root, 'b.ckpt'), every: 0, name: 'config_1', config, dataset: data.fingerprint, onWrite: (w) => writes.push(w) }) });
    expect(writes.map((w) => [w.epoch, w.step, w.epochEnd])).toEqual([[1, 0, true]]);
  });

  it('momentum and decay: a run stopped mid-epoch and continued from its last checkpoint file ends bit-identical to an uninterrupted one', async () => {
    // config_2 (momentum) with decay on and a factor that fires: velocity, lr and the decay history all carry over.
    const config: TrainConfig = { ...loadConfig(configPath('config_2.json')).config, num_epoches: 3, learning_decay: 1, decay_factor: 0.5 };
    const reference = await train({ config, data });
    const path = join(root, 'c', 'config_2.ckpt');
    const hooks = (signal?: AbortController): ReturnType<typeof checkpointHooks> =>
      checkpointHooks({
        path,
        every: 100,
        name: 'config_2',
        config,
        dataset: data.fingerprint,
        hooks: {
          onStep: (info: StepInfo) => {
            // Stops 37 steps after the checkpoint at epoch 2, step 300 (global 1500).
            if (info.epoch === 2 && info.step === 337) signal?.abort();
          },
        },
      });
    const controller = new AbortController();
    const stopped = await train({ config, data, hooks: hooks(controller), signal: controller.signal });
    expect([stopped.state.epoch, stopped.state.step]).toEqual([2, 337]);

    const ckpt = loadCheckpoint(path);
    expect([ckpt.state.epoch, ckpt.state.step, ckpt.state.version]).toEqual([2, 300, 1500]);
    expect(ckpt.state.velocity).not.toBeNull();
    checkCompatible(ckpt, { config, dataset: data.fingerprint, name: 'config_2' });
    const resumed = await train({ config, data, state: ckpt.state, hooks: hooks() });
    expect(resumed.state.version).toBe(reference.state.version);
    expect(bitDifferences(resumed.weights, reference.weights)).toBe(0);
    expect(bitDifferences(resumed.state.velocity!, reference.state.velocity!)).toBe(0);
    expect(resumed.state.lr).toBe(reference.state.lr);
    expect(withoutSeconds(resumed.history)).toEqual(withoutSeconds(reference.history));
    // The epochs finished before the stop keep the seconds they were measured with.
    expect(resumed.history.slice(0, 2).map((m) => m.seconds)).toEqual(stopped.history.map((m) => m.seconds));
  });
});
