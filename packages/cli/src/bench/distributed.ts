import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { WebSocketServer, type WebSocket } from 'ws';
import { applyUpdate, epochOrder, initialState, LocalGradientSource, parseConfig, splitTrainingSet, stepsPerEpoch, type TrainConfig, type TrainingData } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { workerThreadEntry } from '@mnist-lr/worker';
import { mean, median, table } from './stats.js';

export interface DistributedBenchOptions {
  batches: number[];
  workers: number[];
  /** Measure each cell for about this long after warm-up, milliseconds. */
  budgetMs: number;
  log: (line: string) => void;
}

/** Steps run before a distributed cell is timed, milliseconds. */
const WARMUP_MS = 2000;

export interface Cell {
  /** Median milliseconds per step: the typical step. */
  msPerStep: number;
  /** Mean milliseconds per step: what an epoch takes, pauses (GC, scheduling) included. */
  meanMs: number;
  /**
   * CPU milliseconds per step of this process, all its threads (coordinator and workers) together,
   * over the timed steps: the work a step costs, which waiting for a busy machine does not inflate.
   */
  cpuMs: number;
  steps: number;
  /** WebSocket payload bytes per step and worker, coordinator to worker and back. */
  bytesDown: number;
  bytesUp: number;
}

/**
 * Milliseconds per step (and the seconds per epoch they imply) of in-process training and of a
 * coordinator with 1, 2, 4 local worker threads, beside two WebSocket round trips moving the same
 * payload (the bytes per worker and step that the 2-worker run moved: weights out, exact sums
 * back) between two worker threads, measured in the same run: one with a plain ws client, one
 * with the workers' own transport settings. They are the floor any synchronous parameter-server
 * step over WebSocket pays on this machine.
 */
export async function benchDistributed(data: TrainingData, options: DistributedBenchOptions): Promise<{ table: string; epochs: string }> {
  const steps: string[][] = [];
  const epochs: string[][] = [];
  for (const B of options.batches) {
    const config = parseConfig({ num_epoches: 1000, batch_size: B, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
    const perEpoch = stepsPerEpoch(data.train.count, B);
    const local = inProcess(data, config, options.budgetMs);
    const cells: Cell[] = [];
    for (const n of options.workers) cells.push(await withWorkers(data, config, n, options.budgetMs));
    // The baseline moves the bytes the 2-worker run moved per worker and step, measured above.
    const two = cells[options.workers.indexOf(2)] ?? cells[0]!;
    const down = Math.round(two.bytesDown);
    const up = Math.round(two.bytesUp);
    const plain = await wsRoundTrip(2, down, up, options.budgetMs, 'default');
    const rt = await wsRoundTrip(2, down, up, options.budgetMs, 'worker');
    options.log(`batch ${B}: in-process ${local.msPerStep.toFixed(3)} ms, workers ${cells.map((c) => c.msPerStep.toFixed(3)).join(' / ')} ms, round trip ${plain.toFixed(3)} ms plain, ${rt.toFixed(3)} ms with the workers' settings (${down} B down, ${up} B up)`);
    steps.push([
      String(B),
      local.msPerStep.toFixed(3),
      ...cells.map((c) => c.msPerStep.toFixed(3)),
      plain.toFixed(3),
      `${(two.msPerStep / plain).toFixed(2)}×`,
      rt.toFixed(3),
      `${(two.msPerStep / rt).toFixed(2)}×`,
      `${(two.bytesDown / 1024).toFixed(0)} / ${(two.bytesUp / 1024).toFixed(0)}`,
    ]);
    epochs.push([String(B), ((local.meanMs * perEpoch) / 1000).toFixed(2), ...cells.map((c) => ((c.meanMs * perEpoch) / 1000).toFixed(2))]);
  }
  const names = options.workers.map((n) => `${n} worker${n > 1 ? 's' : ''}`);
  return {
    table: table(['batch', 'in-process', ...names, 'plain ws round trip', '2 workers ÷ plain', 'round trip, workers\' settings', '2 workers ÷ that', 'KiB down / up per worker'], steps),
    epochs: table(['batch', 'in-process', ...names], epochs),
  };
}

function inProcess(data: TrainingData, config: TrainConfig, budgetMs: number): Cell {
  const order = epochOrder(0, 0, splitTrainingSet(data.train.count, config).train);
  const source = new LocalGradientSource(data.train);
  const state = initialState(config);
  const B = config.batch_size;
  const samples: number[] = [];
  let step = 0;
  const deadline = performance.now() + budgetMs;
  while (performance.now() < deadline || samples.length < 5) {
    const from = (step * B) % (order.length - B + 1);
    const batch = order.subarray(from, from + B);
    const t = performance.now();
    const { sums, rows } = source.compute(batch, state.weights, step);
    applyUpdate(state.weights, null, sums, B, config.learning_rate, config, rows);
    samples.push(performance.now() - t);
    step++;
  }
  const measured = samples.slice(Math.min(20, samples.length >> 1));
  return { msPerStep: median(measured), meanMs: mean(measured), cpuMs: median(measured), steps: samples.length, bytesDown: 0, bytesUp: 0 };
}

/** Steps of a coordinator with `n` local worker threads, timed after a warm-up; `verify` as --verify. */
export async function withWorkers(data: TrainingData, config: TrainConfig, n: number, budgetMs: number, verify = 0): Promise<Cell> {
  const token = randomBytes(16).toString('hex');
  const abort = new AbortController();
  const times: number[] = [];
  let warmup: number | undefined;
  let last = 0;
  let started = 0;
  let from = { out: 0, in: 0 };
  let to = { out: 0, in: 0 };
  let cpuFrom = process.cpuUsage();
  let cpuTo = cpuFrom;
  let coordinator: Coordinator | undefined = undefined;
  coordinator = await Coordinator.start({
    config,
    data,
    token,
    minWorkers: n,
    workerWaitMs: 30_000,
    verify,
    signal: abort.signal,
    hooks: {
      onStep: () => {
        const now = performance.now();
        const t = coordinator!.traffic;
        warmup ??= now + WARMUP_MS;
        // Steps are timed once the workers settled: the first seconds after loading MNIST carry
        // their start-up garbage collections and JIT tiering, which a long run does not.
        if (now < warmup) return;
        if (last) times.push(now - last);
        else {
          started = now;
          from = { out: t.bytesOut, in: t.bytesIn };
          cpuFrom = process.cpuUsage();
        }
        last = now;
        if (now - started > budgetMs && times.length >= 20) {
          to = { out: t.bytesOut, in: t.bytesIn };
          cpuTo = process.cpuUsage();
          abort.abort();
        }
      },
    },
  });
  const threads = Array.from({ length: n }, (_, i) => new Worker(workerThreadEntry(), { workerData: { url: coordinator.url, token, label: `bench-${i}` } }));
  try {
    await coordinator.run();
  } finally {
    await coordinator.close();
    await Promise.all(threads.map((t) => t.terminate()));
  }
  const perWorkerStep = n * times.length;
  const cpuMs = (cpuTo.user - cpuFrom.user + cpuTo.system - cpuFrom.system) / 1000 / Math.max(1, times.length);
  return { msPerStep: median(times), meanMs: mean(times), cpuMs, steps: times.length, bytesDown: (to.out - from.out) / perWorkerStep, bytesUp: (to.in - from.in) / perWorkerStep };
}

/**
 * A ws round trip: the server sends `down` bytes to each of `clients` worker threads, each answers
 * with `up` bytes, and the server waits for all answers: what one step of any synchronous
 * WebSocket parameter server costs before any encoding or arithmetic. `settings`: 'default' is a
 * ws client as it comes (it masks every frame it sends, RFC 6455 §5.3); 'worker' uses a
 * mnist-lr worker's transport settings (no compression, an all-zero mask).
 */
export async function wsRoundTrip(clients: number, down: number, up: number, budgetMs: number, settings: 'default' | 'worker'): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: up + 1024 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const sockets: WebSocket[] = [];
  const joined = new Promise<void>((resolve) => {
    wss.on('connection', (ws) => {
      sockets.push(ws);
      if (sockets.length === clients) resolve();
    });
  });
  const code = `
    const { workerData } = require('node:worker_threads');
    const WebSocket = require(workerData.ws);
    const reply = Buffer.alloc(workerData.up, 7);
    const options = workerData.settings === 'worker'
      ? { perMessageDeflate: false, maxPayload: workerData.down + 1024, generateMask: (m) => m.fill(0) }
      : {};
    const ws = new WebSocket('ws://127.0.0.1:' + workerData.port, options);
    ws.on('message', () => ws.send(reply));
    ws.on('close', () => process.exit(0));
  `;
  const wsPath = createRequire(import.meta.url).resolve('ws');
  const threads = Array.from({ length: clients }, () => new Worker(code, { eval: true, workerData: { port, up, down, ws: wsPath, settings } }));
  await joined;
  const payload = Buffer.alloc(down, 3);
  const times: number[] = [];
  const until = performance.now() + budgetMs;
  while (performance.now() < until || times.length < 50) {
    const t = performance.now();
    await new Promise<void>((resolve) => {
      let left = clients;
      for (const ws of sockets) {
        ws.once('message', () => {
          if (--left === 0) resolve();
        });
        ws.send(payload);
      }
    });
    times.push(performance.now() - t);
  }
  for (const ws of sockets) ws.close();
  await Promise.all(threads.map((t) => t.terminate()));
  wss.close();
  return median(times.slice(20));
}
