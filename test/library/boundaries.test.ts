import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, loadTrainingData, MnistLrError, parseConfig, train, type TrainingData } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { runWorker } from '@mnist-lr/worker';
import { RunMonitor, serveDashboard, startPredictServer } from '@mnist-lr/watch';
import { firstDifference, originConfig, startThreadWorker } from '../helpers/cluster.js';

// The library entry points check their options as the command line checks a config file: a plain
// object with the origin's seven keys trains, and a bad value is the CLI's coded error naming the key.

/** config_1 for one epoch, as a JavaScript user would write it: the seven origin keys, nothing else. */
const PLAIN = { num_epoches: 1, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 };

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
});

/** The coded error `f` rejects with. */
async function rejection(f: () => Promise<unknown>): Promise<MnistLrError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(MnistLrError);
    return e as MnistLrError;
  }
  throw new Error('expected a rejection, the call succeeded');
}

/** The error the config schema gives for `value` in a file named F, without the file name. */
function cliError(value: unknown): { code: string; text: string } {
  try {
    parseConfig(value, 'F');
  } catch (e) {
    return { code: (e as MnistLrError).code, text: (e as MnistLrError).message.replace(/^F: /, '') };
  }
  throw new Error('expected the schema to refuse the value');
}

const BAD: [string, Record<string, unknown>][] = [
  ['a missing origin key', (({ mu: _mu, ...rest }) => rest)(PLAIN)],
  ['an unknown key', { ...PLAIN, num_epochs: 1 }],
  ['a string for a number', { ...PLAIN, batch_size: '100' }],
  ['a value out of range', { ...PLAIN, learning_rate: 0 }],
  ['an extension out of range', { ...PLAIN, validation_split: 0.7 }],
];

describe('train()', () => {
  it('trains a plain object of the seven origin keys to the same bits as the completed config file', async () => {
    const plain = await train({ config: PLAIN, data });
    const fromFile = await train({ config: originConfig('config_1', { num_epoches: 1 }), data });
    expect(plain.config).toEqual({ ...PLAIN, seed: 0, validation_split: 0, weight_decay: 0 });
    expect(firstDifference(plain.weights, fromFile.weights)).toBe(-1);
    // The accuracy `mnist-lr train --config configs/config_1.json --epochs 1` reaches.
    expect(plain.history[0]!.testAccuracy).toBeGreaterThan(0.8);
    expect(plain.history[0]!.testAccuracy).toBeLessThan(0.83);
  });

  it.each(BAD)('refuses %s with the CLI\'s coded error, naming the key', async (_what, config) => {
    const expected = cliError(config);
    const e = await rejection(() => train({ config: config as never, data }));
    expect(e.code).toBe(expected.code);
    expect(e.message).toBe(`train() config: ${expected.text}`);
  });

  it('refuses a missing config, a non-object and a bad option before loading anything', async () => {
    expect((await rejection(() => train({} as never))).message).toMatch(/^train\(\): option "config" is required/);
    expect((await rejection(() => train(undefined as never))).code).toBe('BAD_OPTION');
    const e = await rejection(() => train({ config: PLAIN, dataDir: 42 } as never));
    expect([e.code, e.message]).toEqual(['BAD_OPTION', 'train(): option "dataDir" must be a non-empty string, got the number 42']);
  });
});

describe('Coordinator.start()', () => {
  it.each(BAD)('refuses %s with the CLI\'s coded error, naming the key', async (_what, config) => {
    const expected = cliError(config);
    const e = await rejection(() => Coordinator.start({ config: config as never, data, token: 't' }));
    expect(e.code).toBe(expected.code);
    expect(e.message).toBe(`Coordinator.start() config: ${expected.text}`);
  });

  it('refuses a bad option with BAD_OPTION naming it, before it listens', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ token: '' }, 'option "token" must be a non-empty string'],
      [{ token: undefined }, 'option "token" is required'],
      [{ port: 70_000 }, 'option "port" must be an integer in [0, 65535], got the number 70000'],
      [{ minWorkers: 0 }, 'option "minWorkers" must be an integer in [1, 1000000]'],
      [{ workerWaitMs: '5s' }, 'option "workerWaitMs" must be an integer in [0, 2147483647], got the string "5s"'],
    ];
    for (const [bad, text] of cases) {
      const e = await rejection(() => Coordinator.start({ config: PLAIN, data, token: 't', ...bad } as never));
      expect(e.code).toBe('BAD_OPTION');
      expect(e.message).toContain(`Coordinator.start(): ${text}`);
    }
  });

  it('trains a plain object of the seven origin keys with a worker thread to the in-process bits', async () => {
    const reference = await train({ config: PLAIN, data });
    const token = `boundaries-${Date.now()}`;
    const coordinator = await Coordinator.start({ config: PLAIN, data, token, workerWaitMs: 30_000 });
    const thread = startThreadWorker(coordinator.url, token, 'thread-0');
    try {
      const state = await coordinator.run();
      expect((await thread.done).reason).toBe('RUN_COMPLETE');
      expect(firstDifference(state.weights, reference.weights)).toBe(-1);
    } finally {
      await coordinator.close();
      await thread.worker.terminate();
    }
  });
});

describe('serveDashboard() and startPredictServer()', () => {
  it('refuse a bad option with BAD_OPTION naming it, and a host beyond loopback without a token, before they listen', async () => {
    const monitor = new RunMonitor({ name: 'n', path: '', config: parseConfig(PLAIN, 'plain'), dataset: data.fingerprint, kernel: 'k', engine: 'in-process', trainImages: data.train.count });
    const dashboard: [Record<string, unknown>, string][] = [
      [{}, 'serveDashboard(): option "monitor" is required (an object)'],
      [{ monitor, port: -1 }, 'serveDashboard(): option "port" must be an integer in [0, 65535], got the number -1'],
      [{ monitor, pushIntervalMs: 1 }, 'serveDashboard(): option "pushIntervalMs" must be an integer in [10, 2147483647], got the number 1'],
      [{ monitor, host: '0.0.0.0' }, 'serveDashboard() on 0.0.0.0 would let other machines connect: give it a token'],
    ];
    for (const [options, text] of dashboard) {
      const e = await rejection(() => serveDashboard(options as never));
      expect([e.code, e.message]).toEqual(['BAD_OPTION', text]);
    }
    const model = { name: 'm', W: new Float64Array(7840), b: new Float64Array(10) };
    const draw: [Record<string, unknown>, string][] = [
      [{ model }, 'startPredictServer(): option "decode" is required (a function)'],
      [{ model, decode: () => [], maxBodyBytes: 0 }, 'startPredictServer(): option "maxBodyBytes" must be an integer in [1, 2147483647], got the number 0'],
      [{ model, decode: () => [], host: '0.0.0.0' }, 'startPredictServer() on 0.0.0.0 would let other machines connect: give it a token'],
    ];
    for (const [options, text] of draw) {
      const e = await rejection(() => startPredictServer(options as never));
      expect([e.code, e.message]).toEqual(['BAD_OPTION', text]);
    }
  });
});

describe('the data loaders', () => {
  it('refuse a folder that is not a path with BAD_OPTION naming the loader and the key', () => {
    expect(() => loadTrainingData({ dataDir: 5 } as never)).toThrow('loadTrainingData(): option "dataDir" must be a non-empty string, got the number 5');
    expect(() => loadMnist({ dataDir: '' })).toThrow('loadMnist(): option "dataDir" must be a non-empty string, got the string ""');
  });
});

describe('runWorker()', () => {
  it('refuses a bad address or token with BAD_OPTION naming it, before it loads data or connects', async () => {
    const url = await rejection(() => runWorker({ url: 'localhost:7070', token: 't' }));
    expect([url.code, url.message]).toEqual([
      'BAD_OPTION',
      'runWorker(): option "url" must be ws://HOST:PORT or wss://HOST:PORT (the coordinator\'s address), got "localhost:7070"',
    ]);
    const token = await rejection(() => runWorker({ url: 'ws://127.0.0.1:1', token: undefined } as never));
    expect(token.message).toBe('runWorker(): option "token" is required (a non-empty string)');
  });
});
