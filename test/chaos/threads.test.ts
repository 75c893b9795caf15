import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainingData, train, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator, type CoordinatorOptions } from '@mnist-lr/coordinator';
import { firstDifference, originConfig, startThreadWorker, waitFor, type ThreadWorker } from '../helpers/cluster.js';

// Faults of worker threads that compute through shared memory (DESIGN.md §10): a thread that
// dies, hangs or lies while it holds a slot loses its slice to another party, and the run ends
// with the in-process weights, to the bit. The threads are real, with the real kernel; a fault is
// put in by a wrapper of the kernel (helpers/faulty-thread.mjs) on the test's cue.
const config = originConfig('config_1', { num_epoches: 2 });
let data: TrainingData;
let reference: Weights;

beforeAll(async () => {
  data = loadTrainingData();
  reference = (await train({ config, data })).weights;
});

const FAULTY = new URL('../helpers/faulty-thread.mjs', import.meta.url);
const HANG = 1;
const LIE = 2;

interface Faulty {
  worker: Worker;
  /** control[0]: what the kernel does (0, its start: honest; HANG; LIE); control[1]: 1 once it hangs in a slice. */
  control: Int32Array;
  lines: string[];
  exited: Promise<number>;
}

function startFaulty(coordinator: Coordinator, token: string, label: string): Faulty {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(FAULTY, { workerData: { url: coordinator.url, token, label, data, slot: coordinator.threadSlot(), control } });
  const lines: string[] = [];
  worker.on('message', (m: { type: string; line?: string }) => {
    if (m.type === 'log') lines.push(m.line!);
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { worker, control, lines, exited };
}

function token(): string {
  return `token-${Math.random().toString(36).slice(2)}`;
}

/** A coordinator computing its share, with `options`, its log kept in `log` when given (dropped otherwise, not printed). */
async function coordinatorWith(secret: string, options: Partial<CoordinatorOptions>, log?: string[]): Promise<Coordinator> {
  // Sharing every step, even where this thread alone would be faster: the faults are the point.
  return Coordinator.start({ config, data, token: secret, computeShare: true, adaptive: false, workerWaitMs: 30_000, log: (l) => log?.push(l), ...options });
}

describe('worker threads over shared memory, under faults', () => {
  it('a thread terminated while it holds a slice loses it to another party; the weights are the in-process ones', async () => {
    const secret = token();
    const log: string[] = [];
    let faulty: Faulty | undefined;
    let killedAt = -1;
    let takenOver = false;
    // A deadline far beyond the test: the slice must come back because the thread died (or was
    // late, and this thread computed it too), never because the deadline evicted the thread.
    const coordinator = await coordinatorWith(secret, {
      minWorkers: 2,
      stepTimeoutMs: 120_000,
      minStepTimeoutMs: 120_000,
      hooks: {
        onStep: async (info) => {
          if (info.epoch !== 0 || info.step !== 150 || !faulty) return;
          // The next step's slice sticks in the thread; kill it there, then let the step run on.
          Atomics.store(faulty.control, 0, HANG);
          killedAt = info.step;
          const watch = setInterval(() => {
            if (Atomics.load(faulty!.control, 1) === 1) {
              clearInterval(watch);
              void faulty!.worker.terminate();
              // The coordinator computes a late slice itself, or gets it back when the thread dies.
              void waitFor(() => coordinator.reassigned + coordinator.stats.backups > 0, 30_000, 'the slice to be taken over').then(() => (takenOver = true));
            }
          }, 1);
        },
      },
    }, log);
    faulty = startFaulty(coordinator, secret, 'victim');
    const other = startThreadWorker(coordinator.url, secret, 'survivor', { data, slot: coordinator.threadSlot() });
    try {
      const state = await coordinator.run();
      expect(killedAt).toBe(150);
      expect(Atomics.load(faulty.control, 1)).toBe(1);
      expect(coordinator.reassigned + coordinator.stats.backups).toBeGreaterThanOrEqual(1);
      expect(takenOver).toBe(true);
      // Why the slice came back: never the deadline (no eviction, no reassignment for it); any
      // reassignment was for the lost connection, and the thread left with no eviction code.
      expect(coordinator.evicted.STEP_DEADLINE).toBeUndefined();
      const reassignments = coordinator.monitor.status().counters.reassignments;
      expect(Object.keys(reassignments).filter((code) => code !== 'CONNECTION_LOST'), JSON.stringify(reassignments)).toEqual([]);
      expect(log.some((l) => /worker \d+ \(victim\) left: (?!\[)/.test(l)), log.join('\n')).toBe(true);
      expect(firstDifference(state.weights, reference)).toBe(-1);
      console.log(`[chaos] thread terminated in a slice after step ${killedAt}: reassignments ${JSON.stringify(reassignments)}; stats ${JSON.stringify(coordinator.stats)}`);
      expect((await other.done).reason).toBe('RUN_COMPLETE');
    } finally {
      await coordinator.close();
      await faulty.worker.terminate();
      await other.worker.terminate();
    }
  });

  it('a thread that never answers is evicted within the step deadline (STEP_DEADLINE); its slice is recomputed and the weights are the in-process ones', async () => {
    const secret = token();
    const log: string[] = [];
    let faulty: Faulty | undefined;
    let hungAt = -1;
    let waited = false;
    const coordinator = await coordinatorWith(secret, {
      minWorkers: 1,
      stepTimeoutMs: 2000,
      minStepTimeoutMs: 300,
      hooks: {
        onStep: async (info) => {
          if (info.epoch === 0 && info.step === 100 && faulty) {
            Atomics.store(faulty.control, 0, HANG);
            hungAt = performance.now();
          }
          // The run goes on without the stuck thread (this thread computes its slice too); once
          // the thread is stuck inside a slice, the run is held here only until the deadline has
          // passed, so that it is still on then.
          if (faulty && !waited && Atomics.load(faulty.control, 1) === 1) {
            waited = true;
            await waitFor(() => (coordinator.evicted.STEP_DEADLINE ?? 0) > 0, 30_000, 'the deadline eviction');
          }
        },
      },
    }, log);
    faulty = startFaulty(coordinator, secret, 'stuck');
    try {
      const state = await coordinator.run();
      expect(hungAt).toBeGreaterThan(0);
      expect(Atomics.load(faulty.control, 1)).toBe(1);
      expect(waited).toBe(true);
      expect(coordinator.evicted.STEP_DEADLINE).toBe(1);
      const left = log.find((l) => /\(stuck\) left: \[STEP_DEADLINE\] no answer to a slice within (\d+) ms/.test(l));
      expect(left, log.join('\n')).toBeDefined();
      const deadline = Number(/within (\d+) ms/.exec(left!)![1]);
      expect(deadline).toBeGreaterThanOrEqual(300);
      expect(deadline).toBeLessThanOrEqual(2000);
      expect(firstDifference(state.weights, reference)).toBe(-1);
      console.log(`[chaos] hung thread: ${left}; stats ${JSON.stringify(coordinator.stats)}`);
    } finally {
      await coordinator.close();
      await faulty.worker.terminate();
    }
  });

  it('a replacement thread with a new slot joins mid-run and computes; the weights are the in-process ones', async () => {
    const secret = token();
    let first: ThreadWorker | undefined;
    let second: ThreadWorker | undefined;
    const coordinator = await coordinatorWith(secret, {
      minWorkers: 1,
      hooks: {
        onStep: async (info) => {
          if (info.epoch === 0 && info.step === 200 && first) {
            await first.worker.terminate();
            second = startThreadWorker(coordinator.url, secret, 'replacement', { data, slot: coordinator.threadSlot() });
            // The run goes on without waiting (this thread computes alone meanwhile); the test
            // holds it here only so that the replacement surely joins before the run ends.
            await waitFor(() => coordinator.workers === 1, 30_000, 'the replacement to join');
          }
        },
      },
    });
    first = startThreadWorker(coordinator.url, secret, 'first', { data, slot: coordinator.threadSlot() });
    try {
      const state = await coordinator.run();
      expect(firstDifference(state.weights, reference)).toBe(-1);
      expect(second).toBeDefined();
      const outcome = await second!.done;
      expect(outcome.reason).toBe('RUN_COMPLETE');
      expect(outcome.tasks).toBeGreaterThan(100);
      expect(second!.lines.some((l) => l.includes('tasks through shared memory'))).toBe(true);
    } finally {
      await coordinator.close();
      await first.worker.terminate();
      await second?.worker.terminate();
    }
  });

  it('a thread that shows a slot it does not hold (another coordinator\'s) computes over WebSocket, and the weights are the in-process ones', async () => {
    const secret = token();
    const elsewhere = await Coordinator.start({ config, data, token: 'other', computeShare: true });
    const coordinator = await coordinatorWith(secret, { minWorkers: 1 });
    const stranger = startThreadWorker(coordinator.url, secret, 'stranger', { data, slot: elsewhere.threadSlot() });
    try {
      const state = await coordinator.run();
      expect(firstDifference(state.weights, reference)).toBe(-1);
      expect(coordinator.monitor.status().workers.map((w) => w.transport)).toEqual(['WebSocket']);
      expect(coordinator.traffic.framesOut).toBeGreaterThan(1000);
      const outcome = await stranger.done;
      expect(outcome).toMatchObject({ reason: 'RUN_COMPLETE', tasks: 1200 });
    } finally {
      await coordinator.close();
      await elsewhere.close();
      await stranger.worker.terminate();
    }
  });

  it('with --verify 1, a thread whose sums are wrong is caught, evicted with RESULT_MISMATCH and refused; the weights are the in-process ones', async () => {
    const secret = token();
    const log: string[] = [];
    let liar: Faulty | undefined;
    const coordinator = await coordinatorWith(secret, {
      minWorkers: 2,
      verify: 1,
      hooks: {
        onStep: (info) => {
          if (info.epoch === 0 && info.step === 30 && liar) Atomics.store(liar.control, 0, LIE);
        },
      },
    }, log);
    liar = startFaulty(coordinator, secret, 'liar');
    const honest = startThreadWorker(coordinator.url, secret, 'honest', { data, slot: coordinator.threadSlot() });
    try {
      const state = await coordinator.run();
      expect(coordinator.evicted.RESULT_MISMATCH).toBe(1);
      expect(coordinator.stats.verify.mismatches).toBeGreaterThanOrEqual(1);
      expect(firstDifference(state.weights, reference)).toBe(-1);
      expect(log.some((l) => /\(liar\) left: \[RESULT_MISMATCH\]/.test(l))).toBe(true);
      expect(Atomics.load(liar.control, 0)).toBe(LIE);
      console.log(`[chaos] lying thread under --verify 1: stats ${JSON.stringify(coordinator.stats)}`);
    } finally {
      await coordinator.close();
      await liar.worker.terminate();
      await honest.worker.terminate();
    }
  });
});
