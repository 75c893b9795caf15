/**
 * How many workers one coordinator serves (`bench fanout`): N = 1, 2, 4, … 64 workers on
 * loopback, at a small and a large batch, measuring what the coordinator pays as N grows.
 *
 * The coordinator runs in this process and the N workers in one other (fanout-host.ts), each
 * with its own connection, computing real slices of the batch: together one batch a step, so
 * the machine's arithmetic does not grow with N and 64 workers fit on 2 cores. What grows with N
 * is the coordinator's: the weights sent to every worker each step, a result from each, their
 * sums, its CPU. This process's CPU time is the coordinator's alone.
 *
 * From the same run, a projection onto real networks, each worker on a machine of its own. Per
 * step, the coordinator's CPU and bytes grow with N (fitted as a + c·N over the cells, robustly:
 * see fit()), while each worker's share of the arithmetic (timed here on one core with the
 * workers' kernel) shrinks as 1/N. A step takes at least the largest of the three (at best they
 * overlap: workers compute while the coordinator sends the others their weights), so one
 * coordinator scales up to the N where the growing terms meet the shrinking one; past it, more
 * workers make steps longer.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { epochOrder, LocalGradientSource, parseConfig, zeroWeights, type TrainingData } from '@mnist-lr/core/engine';
import { Coordinator } from '@mnist-lr/coordinator';

import { median, table } from './stats.js';
import { StepTimer, TrafficWindow } from './step-timer.js';

export interface FanoutBenchOptions {
  workers: number[];
  batches: number[];
  /** Measure each cell for about this long after warm-up, milliseconds. */
  budgetMs: number;
  log: (line: string) => void;
}

interface FanoutCell {
  workers: number;
  msPerStep: number;
  /** The coordinator's CPU milliseconds per step (this process: no worker runs here). */
  cpuMs: number;
  /** Payload bytes per step, all workers: coordinator to workers, and back. */
  bytesDown: number;
  bytesUp: number;
  /** Peak resident memory of this process (the coordinator, its data and the bench), MiB. */
  rssMiB: number;
}

/** Payload bytes a second on a link, after Ethernet, IP, TCP and WebSocket framing (~95 %). */
const LINKS = [
  { name: '1 GbE', bytesPerSecond: 0.95 * 125e6 },
  { name: '10 GbE', bytesPerSecond: 0.95 * 1.25e9 },
];

const HOST = fileURLToPath(new URL('./fanout-host.js', import.meta.url));

export async function benchFanout(data: TrainingData, options: FanoutBenchOptions): Promise<{ table: string; projection: string }> {
  const rows: string[][] = [];
  const projected: string[][] = [];
  for (const B of options.batches) {
    const config = parseConfig({ num_epoches: 1000, batch_size: B, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
    const arithmeticMs = batchArithmeticMs(data, B);
    const cells: FanoutCell[] = [];
    for (const n of options.workers.filter((w) => w <= B)) {
      const c = await fanoutCell(data, config, n, options.budgetMs);
      options.log(`batch ${B}, ${n} workers: ${c.msPerStep.toFixed(3)} ms/step, coordinator ${c.cpuMs.toFixed(3)} CPU ms/step, ${kib(c.bytesDown)} / ${kib(c.bytesUp)} KiB per step`);
      cells.push(c);
      rows.push([String(B), String(n), c.msPerStep.toFixed(3), c.cpuMs.toFixed(3), (c.cpuMs / n).toFixed(3), `${kib(c.bytesDown)} / ${kib(c.bytesUp)}`, (c.bytesDown / n / 1024).toFixed(1), c.rssMiB.toFixed(0)]);
    }
    const cpu = fit(cells.map((c) => [c.workers, c.cpuMs]));
    const bytes = fit(cells.map((c) => [c.workers, Math.max(c.bytesDown, c.bytesUp)]));
    for (const link of LINKS) {
      const terms = (n: number): Record<string, number> => ({
        arithmetic: arithmeticMs / n,
        'coordinator CPU': cpu.a + cpu.c * n,
        link: (1000 * (bytes.a + bytes.c * n)) / link.bytesPerSecond,
      });
      const stepMs = (n: number): number => Math.max(...Object.values(terms(n)));
      let best = 1;
      for (let n = 2; n <= 1024; n++) if (stepMs(n) < stepMs(best)) best = n;
      // What grows past the best N: the larger of the coordinator's CPU and the link there.
      const grown = Object.entries(terms(best)).filter(([k]) => k !== 'arithmetic').sort((x, y) => y[1] - x[1])[0]![0];
      projected.push([
        String(B),
        link.name,
        arithmeticMs.toFixed(2),
        `${cpu.a.toFixed(2)} + ${cpu.c.toFixed(3)} × N`,
        `${((bytes.a * 1000) / link.bytesPerSecond).toFixed(2)} + ${((bytes.c * 1000) / link.bytesPerSecond).toFixed(3)} × N`,
        [1, 2, 4, 8, 16, 32, 64].map((n) => `${n}: ${stepMs(n).toFixed(2)}`).join(', '),
        String(best),
        `${(stepMs(1) / stepMs(best)).toFixed(1)}×`,
        grown,
      ]);
    }
  }
  return {
    table: table(['batch', 'workers', 'ms per step (median)', 'coordinator CPU ms per step', 'per worker', 'KiB per step, down / up', 'KiB down per worker', 'peak RSS MiB'], rows),
    projection: table(['batch', 'link', "one core's arithmetic, ms", 'coordinator CPU, ms', 'link, ms', 'projected ms per step by workers', 'best N', 'speed-up over 1', 'what grows past it'], projected),
  };
}

/**
 * y ≈ a + c·x by Theil and Sen's estimator: c the median of the slopes between every two points,
 * a the median of y − c·x. One cell slowed down by the machine's other work moves it little, where
 * it would drag a least-squares line.
 */
function fit(points: [number, number][]): { a: number; c: number } {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const [xi, yi] = points[i]!;
      const [xj, yj] = points[j]!;
      if (xi !== xj) slopes.push((yj - yi) / (xj - xi));
    }
  }
  const c = slopes.length ? median(slopes) : 0;
  return { a: median(points.map(([x, y]) => y - c * x)), c };
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(0);
}

/**
 * Milliseconds one core takes for a batch's exact sums with the workers' kernel: what N workers
 * on N machines split between them. Median of repeated batches of the first epoch's order.
 */
function batchArithmeticMs(data: TrainingData, batch: number): number {
  const source = new LocalGradientSource(data.train);
  const order = epochOrder(0, 0, Uint32Array.from({ length: data.train.count }, (_, i) => i));
  const weights = zeroWeights();
  const times: number[] = [];
  let version = 0;
  for (let start = 0; times.length < 25; start = (start + batch) % (order.length - batch)) {
    const t = performance.now();
    source.compute(order.subarray(start, start + batch), weights, version++);
    times.push(performance.now() - t);
  }
  return median(times.slice(5));
}

async function fanoutCell(data: TrainingData, config: ReturnType<typeof parseConfig>, n: number, budgetMs: number): Promise<FanoutCell> {
  const token = randomBytes(16).toString('hex');
  const abort = new AbortController();
  let rss = 0;
  let steps = 0;
  let coordinator: Coordinator | undefined;
  const traffic = new TrafficWindow(() => coordinator!.traffic);
  const timer = new StepTimer(budgetMs, () => abort.abort(), traffic.edge);
  coordinator = await Coordinator.start({
    config,
    data,
    token,
    minWorkers: n,
    workerWaitMs: 120_000,
    signal: abort.signal,
    hooks: {
      onStep: () => {
        if (++steps % 10 === 0) rss = Math.max(rss, process.memoryUsage.rss());
        timer.step();
      },
    },
  });
  const host = spawn(process.execPath, [HOST, coordinator.url, token, String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await coordinator.run();
  } finally {
    host.kill('SIGTERM');
    await coordinator.close();
  }
  const cell = timer.cell();
  return { workers: n, msPerStep: cell.msPerStep, cpuMs: cell.cpuMs, bytesDown: traffic.bytes.down / timer.count, bytesUp: traffic.bytes.up / timer.count, rssMiB: rss / 2 ** 20 };
}
