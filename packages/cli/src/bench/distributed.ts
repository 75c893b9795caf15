import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseConfig, stepsPerEpoch, type TrainingData } from '@mnist-lr/core';
import { coresUsed, inProcess, withWorkers } from './cells.js';
import { parallelFloor } from './parallel-floor.js';
import { scalingTarget, SCALING_TARGET } from './scaling-target.js';
import { median, table } from './stats.js';
import type { Cell } from './step-timer.js';

export type { Cell } from './step-timer.js';
export { withWorkers } from './cells.js';

export interface DistributedBenchOptions {
  batches: number[];
  workers: number[];
  /** Measure each cell for about this long after warm-up, milliseconds. */
  budgetMs: number;
  /** Interleaved rounds for the scaling target's verdict. Default 3. */
  targetRounds?: number;
  log: (line: string) => void;
}

/**
 * Milliseconds per step (and the seconds per epoch they imply) of in-process training and of a
 * coordinator with 1, 2, 4 local worker threads, beside two WebSocket round trips moving the same
 * payload (the bytes per worker and step that the 2-worker run moved: weights out, exact sums
 * back) between two worker threads, measured in the same run: one with a plain ws client, one
 * with the workers' own transport settings. They are the floor any synchronous parameter-server
 * step over WebSocket pays on this machine.
 *
 * Then the scaling table: the 2 workers' speed-up over in-process, beside the speed-up of the
 * parallel floor (parallel-floor.ts: 2 threads sharing memory, no messages), which is the most any
 * 2 threads could show on this machine at that moment, and the target of issue 12 at batch 8192.
 */
export async function benchDistributed(data: TrainingData, options: DistributedBenchOptions): Promise<{ table: string; epochs: string; scaling: string; target: string }> {
  const steps: string[][] = [];
  const epochs: string[][] = [];
  const scaling: string[][] = [];
  const load = [loadavg()[0]!];
  for (const B of options.batches) {
    const config = parseConfig({ num_epoches: 1000, batch_size: B, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
    const perEpoch = stepsPerEpoch(data.train.count, B);
    const local = await inProcess(data, config, options.budgetMs);
    const cells: Cell[] = [];
    for (const n of options.workers) cells.push(await withWorkers(data, config, n, options.budgetMs));
    // The baseline moves the bytes the 2-worker run moved per worker and step, measured above.
    const two = cells[options.workers.indexOf(2)] ?? cells[0]!;
    const floor = await parallelFloor(data, config, 2, options.budgetMs);
    const down = Math.round(two.bytesDown);
    const up = Math.round(two.bytesUp);
    const plain = await wsRoundTrip(2, down, up, options.budgetMs, 'default');
    const rt = await wsRoundTrip(2, down, up, options.budgetMs, 'worker');
    load.push(loadavg()[0]!);
    options.log(`batch ${B}: in-process ${local.msPerStep.toFixed(3)} ms, workers ${cells.map((c) => c.msPerStep.toFixed(3)).join(' / ')} ms, 2 threads sharing memory ${floor.msPerStep.toFixed(3)} ms, round trip ${plain.toFixed(3)} ms plain, ${rt.toFixed(3)} ms with the workers' settings (${down} B down, ${up} B up); load average ${loadavg()[0]!.toFixed(2)}`);
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
    const speedUp = local.msPerStep / two.msPerStep;
    const floorSpeedUp = local.msPerStep / floor.msPerStep;
    scaling.push([
      String(B),
      local.msPerStep.toFixed(3),
      two.msPerStep.toFixed(3),
      `${speedUp.toFixed(2)}×`,
      floor.msPerStep.toFixed(3),
      `${floorSpeedUp.toFixed(2)}×`,
      `${local.cpuMs.toFixed(2)} / ${two.cpuMs.toFixed(2)}`,
      [local, two, floor].map(coresUsed).join(' / '),
    ]);
  }
  // The verdict from rounds of its own, interleaved: cells measured minutes apart on a shared
  // machine differ more than the target does.
  const target = options.batches.includes(SCALING_TARGET.batch)
    ? await scalingTarget(data, { budgetMs: options.budgetMs, rounds: options.targetRounds ?? 3, log: options.log })
    : `batch ${SCALING_TARGET.batch} was not measured`;
  load.push(loadavg()[0]!);
  const names = options.workers.map((n) => `${n} worker${n > 1 ? 's' : ''}`);
  const loads = `load average (1 min) ${Math.min(...load).toFixed(2)}–${Math.max(...load).toFixed(2)} on ${availableParallelism()} cores while measuring`;
  return {
    table: table(['batch', 'in-process', ...names, 'plain ws round trip', '2 workers ÷ plain', 'round trip, workers\' settings', '2 workers ÷ that', 'KiB down / up per worker'], steps),
    epochs: table(['batch', 'in-process', ...names], epochs),
    scaling: table(['batch', 'in-process (ms)', '2 workers (ms)', '2 workers\' speed-up', '2 threads sharing memory (ms)', 'their speed-up', 'CPU ms per step, in-process / 2 workers', 'cores used, in-process / 2 workers / 2 threads'], scaling),
    target: `${target}; ${loads}.`,
  };
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
