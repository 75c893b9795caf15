import { applyUpdate, createKernel, epochOrder, parseConfig, splitTrainingSet, zeroWeights, type Kernel, type TrainingData } from '@mnist-lr/core/engine';
import { hostMathKernel } from './host-math.js';
import { median, table } from './stats.js';

export interface ExpLogBenchOptions {
  batches: number[];
  /** Timed epochs of each kernel (median reported). */
  repeats: number;
  log: (line: string) => void;
}

/**
 * The exact kernel with its own exp and log (the default) against the same kernel calling the
 * host's Math.exp and Math.log (what it did before), in WebAssembly and in JS: seconds per
 * training epoch, the four interleaved in one process so that their ratios hold on a noisy machine.
 */
export function benchExpLog(data: TrainingData, options: ExpLogBenchOptions): string {
  const rows: string[][] = [];
  let version = 0;
  for (const B of options.batches) {
    const config = parseConfig({ num_epoches: 1, batch_size: B, learning_rate: 0.005, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'bench');
    const order = epochOrder(0, 0, splitTrainingSet(data.train.count, config).train);
    const kernels: Kernel[] = [createKernel(data.train, 'wasm'), hostMathKernel(data.train, 'wasm'), createKernel(data.train, 'js'), hostMathKernel(data.train, 'js')];
    const times: number[][] = kernels.map(() => []);
    const epoch = (k: Kernel): number => {
      const w = zeroWeights();
      const t = performance.now();
      for (let from = 0; from < order.length; from += B) {
        const batch = order.subarray(from, Math.min(from + B, order.length));
        const { sums, rows } = k.compute(batch, w, ++version);
        applyUpdate(w, null, sums, batch.length, config.learning_rate, config, rows);
      }
      return (performance.now() - t) / 1000;
    };
    for (const k of kernels) epoch(k); // warm-up: let the JIT settle
    for (let r = 0; r < options.repeats; r++) kernels.forEach((k, i) => times[i]!.push(epoch(k)));
    const [wOwn, wHost, jOwn, jHost] = times.map(median) as [number, number, number, number];
    options.log(`batch ${B}: wasm ${wOwn.toFixed(3)} / ${wHost.toFixed(3)} s, js ${jOwn.toFixed(3)} / ${jHost.toFixed(3)} s`);
    rows.push([String(B), wOwn.toFixed(3), wHost.toFixed(3), `${(wHost / wOwn).toFixed(2)}×`, jOwn.toFixed(3), jHost.toFixed(3), `${(jHost / jOwn).toFixed(2)}×`, String(options.repeats)]);
  }
  return table(
    ['batch', 'WebAssembly, own exp/log', 'WebAssembly, Math.exp/log', 'own faster by', 'JS, own exp/log', 'JS, Math.exp/log', 'own faster by', 'runs'],
    rows,
  );
}
