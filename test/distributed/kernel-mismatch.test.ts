import { beforeAll, describe, expect, it } from 'vitest';
import { createKernel, kernelFingerprint, loadTrainingData, train, type KernelFactory, type TrainingData, type Weights } from '@mnist-lr/core/engine';
import { Coordinator } from '@mnist-lr/coordinator';
import { runWorker } from '@mnist-lr/worker';
import { firstDifference, originConfig, startThreadWorker } from '../helpers/cluster.js';

// A worker whose kernel computes other bits must be refused at its hello, whatever it calls itself.
const config = originConfig('config_1', { num_epoches: 1 });
let data: TrainingData;
let reference: Weights;

beforeAll(async () => {
  data = loadTrainingData();
  reference = (await train({ config, data })).weights;
});

/**
 * The JS kernel with another engine's exp: e^x as 2^(x·log₂e), which differs from fdlibm's in the
 * last bits of many results, as a host's Math.exp may. It is the same kernel in every other way.
 */
const otherExp: KernelFactory = (images) => {
  const k = createKernel(images, 'js');
  return { name: k.name, count: k.count, compute: (b, w, v) => k.compute(b, w, v), evaluate: (w, i) => k.evaluate(w, i), log: k.log, exp: (x) => Math.pow(2, x * Math.LOG2E) };
};

describe('a worker whose kernel fingerprint differs', () => {
  it('is refused with KERNEL_MISMATCH naming both fingerprints, over the real handshake, and the run goes on', async () => {
    const ours = kernelFingerprint();
    const theirs = kernelFingerprint(otherExp);
    expect(theirs).not.toBe(ours);
    expect(theirs.split(':')[0]).toBe(ours.split(':')[0]); // same name: only the outputs tell them apart

    const token = `token-${Math.random().toString(36).slice(2)}`;
    const log: string[] = [];
    let outcome: Awaited<ReturnType<typeof runWorker>> | undefined;
    const coordinator = await Coordinator.start({
      config,
      data,
      token,
      minWorkers: 1,
      workerWaitMs: 30_000,
      log: (line) => log.push(line),
      hooks: {
        onStep: async (info) => {
          if (info.epoch !== 0 || info.step !== 20) return;
          // Mid-run, over a real socket on 127.0.0.1: the hello carries the other kernel's fingerprint.
          outcome = await runWorker({ url: coordinator.url, token, data, kernel: otherExp, label: 'other-exp', retry: { attempts: 1 } });
        },
      },
    });
    const good = startThreadWorker(coordinator.url, token, 'good');
    try {
      const state = await coordinator.run();
      expect(outcome?.reason).toBe('KERNEL_MISMATCH');
      expect(outcome?.tasks).toBe(0);
      expect(outcome?.message).toContain(`worker kernel ${theirs}, coordinator ${ours}`);
      expect(log.some((l) => l.includes('[KERNEL_MISMATCH]') && l.includes(theirs) && l.includes(ours))).toBe(true);
      expect(firstDifference(state.weights, reference)).toBe(-1);
      expect((await good.done).reason).toBe('RUN_COMPLETE');
    } finally {
      await good.worker.terminate();
      await coordinator.close();
    }
  });
});
