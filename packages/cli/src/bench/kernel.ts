import { applyUpdate, epochOrder, LocalGradientSource, parseConfig, splitTrainingSet, zeroWeights, type TrainingData } from '@mnist-lr/core/engine';
import { denseGradient } from './dense.js';
import { median, table } from './stats.js';

export interface KernelBenchOptions {
  batches: number[];
  /** Timed repetitions of the exact kernel's epoch (median reported). */
  repeats: number;
  /** Timed repetitions of the dense baseline's epoch (it is ~10× slower). */
  denseRepeats: number;
  log: (line: string) => void;
}

/**
 * Seconds per training epoch (60,000 samples: gradient and optimiser step, no evaluation) of the
 * exact sparse kernel and of the plain dense loop, measured in the same process and interleaved,
 * so that the ratio holds on a noisy machine even when the absolute figures drift.
 */
export function benchKernel(data: TrainingData, images: Uint8Array, options: KernelBenchOptions): string {
  const rows: string[][] = [];
  for (const B of options.batches) {
    const config = parseConfig({ num_epoches: 1, batch_size: B, learning_rate: 0.005, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
    const order = epochOrder(0, 0, splitTrainingSet(data.train.count, config).train);
    const exact: number[] = [];
    const dense: number[] = [];
    exactEpoch(data, order, B, config); // warm-up: let the JIT settle
    for (let r = 0; r < Math.max(options.repeats, options.denseRepeats); r++) {
      if (r < options.repeats) exact.push(exactEpoch(data, order, B, config));
      if (r < options.denseRepeats) dense.push(denseEpoch(data, images, order, B));
    }
    const e = median(exact);
    const d = median(dense);
    options.log(`batch ${B}: exact ${e.toFixed(3)} s, dense ${d.toFixed(3)} s`);
    rows.push([String(B), e.toFixed(3), d.toFixed(3), `${(d / e).toFixed(1)}×`, String(options.repeats)]);
  }
  return table(['batch', 'exact sparse kernel (s/epoch)', 'dense loop (s/epoch)', 'speed-up', 'runs'], rows);
}

function exactEpoch(data: TrainingData, order: Uint32Array, B: number, config: ReturnType<typeof parseConfig>): number {
  const source = new LocalGradientSource(data.train);
  const w = zeroWeights();
  const t = performance.now();
  for (let from = 0, v = 0; from < order.length; from += B, v++) {
    const batch = order.subarray(from, Math.min(from + B, order.length));
    const { sums, rows } = source.compute(batch, w, v);
    applyUpdate(w, null, sums, batch.length, config.learning_rate, config, rows);
  }
  return (performance.now() - t) / 1000;
}

function denseEpoch(data: TrainingData, images: Uint8Array, order: Uint32Array, B: number): number {
  const w = zeroWeights();
  const gW = new Float64Array(w.W.length);
  const gb = new Float64Array(10);
  const t = performance.now();
  for (let from = 0; from < order.length; from += B) {
    const to = Math.min(from + B, order.length);
    gW.fill(0);
    gb.fill(0);
    denseGradient(w, images, data.train.labels, order, from, to, gW, gb);
    const step = 0.005 / (to - from);
    for (let i = 0; i < gW.length; i++) w.W[i] = w.W[i]! - step * gW[i]!;
    for (let k = 0; k < 10; k++) w.b[k] = w.b[k]! - step * gb[k]!;
  }
  return (performance.now() - t) / 1000;
}
