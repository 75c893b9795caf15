/**
 * Local workers against in-process training, as a user runs them: whole `train` processes of the
 * origin's four configs with `--workers 0` and with `--workers 2` (the coordinator computing one
 * share, a worker thread over shared memory the other), interleaved, medians. Per config: an
 * epoch's seconds (the log's, steps only), the whole process's seconds and its peak memory; and
 * the targets: with 2 workers, config_1's epoch at most 0.6× and its whole process at most 0.85×
 * of in-process, config_sample's epoch no slower, every peak at most 250 MB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readMetricsFile } from '../outputs/report.js';
import { BIN, mib, REPO_ROOT } from './origin.js';
import { peakMemoryUnavailable, runOnce, type Command, type Run } from './processes.js';
import { median, table } from './stats.js';

export interface LocalBenchOptions {
  configs: string[];
  runs: number;
  log: (line: string) => void;
}

/** At most these ratios of 2 workers to in-process, per config: an epoch's seconds, the whole process's. */
const TARGETS: Record<string, { epoch?: number; whole?: number }> = {
  config_1: { epoch: 0.6, whole: 0.85 },
  config_sample: { epoch: 1 },
};
/** Peak resident set of `train --workers 2`, MB (10⁶ bytes). */
const PEAK_MB = 250;

interface Sample extends Run {
  /** Median seconds of the run's epochs, from its metrics file. */
  epoch: number;
}

export async function benchLocal(options: LocalBenchOptions): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'mnist-lr-bench-local-'));
  const rows: string[][] = [];
  try {
    for (const name of options.configs) {
      const config = join(REPO_ROOT, 'configs', `${name}.json`);
      const commands: Command[] = [0, 2].map((workers) => ({
        label: `train ${name} --workers ${workers}`,
        file: process.execPath,
        args: [BIN, 'train', '--config', config, '--workers', String(workers), '--out', join(out, String(workers))],
      }));
      const samples: Sample[][] = [[], []];
      for (let r = 0; r < options.runs; r++) {
        for (const [i, command] of commands.entries()) {
          const run = await runOnce(command);
          const metrics = readMetricsFile(join(out, String(i * 2), 'logs', `${name}.metrics.jsonl`));
          const epoch = median(metrics.epochs.map((e) => e.seconds ?? NaN));
          samples[i]!.push({ ...run, epoch });
          options.log(`${command.label}: ${run.seconds.toFixed(2)} s, epochs ${epoch.toFixed(3)} s${run.peakMiB === null ? '' : `, ${run.peakMiB.toFixed(0)} MiB`} (run ${r + 1}/${options.runs})`);
        }
      }
      const [w0, w2] = samples.map((s) => ({
        epoch: median(s.map((x) => x.epoch)),
        seconds: median(s.map((x) => x.seconds)),
        peak: s.every((x) => x.peakMiB !== null) ? median(s.map((x) => x.peakMiB!)) : null,
      })) as [{ epoch: number; seconds: number; peak: number | null }, { epoch: number; seconds: number; peak: number | null }];
      const target = TARGETS[name] ?? {};
      const verdicts: string[] = [];
      const epochRatio = w2.epoch / w0.epoch;
      const wholeRatio = w2.seconds / w0.seconds;
      if (target.epoch !== undefined) verdicts.push(`epoch ≤ ${target.epoch}×: ${epochRatio <= target.epoch ? 'met' : 'missed'}`);
      if (target.whole !== undefined) verdicts.push(`whole ≤ ${target.whole}×: ${wholeRatio <= target.whole ? 'met' : 'missed'}`);
      if (w2.peak !== null) verdicts.push(`peak ≤ ${PEAK_MB} MB: ${w2.peak * 1.048576 <= PEAK_MB ? 'met' : 'missed'}`);
      rows.push([
        name,
        `${w0.epoch.toFixed(3)} / ${w2.epoch.toFixed(3)}`,
        `${epochRatio.toFixed(2)}×`,
        `${w0.seconds.toFixed(2)} / ${w2.seconds.toFixed(2)}`,
        `${wholeRatio.toFixed(2)}×`,
        `${mib(w0.peak)} / ${mib(w2.peak)}`,
        verdicts.join('; '),
      ]);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const note = peakMemoryUnavailable();
  return (
    table(['config', 'epoch s, --workers 0 / 2', '2 ÷ 0', 'whole process s, 0 / 2', '2 ÷ 0', 'peak RSS MiB, 0 / 2', 'targets'], rows) +
    (note ? `\n\nPeak memory not measured: ${note}.` : '')
  );
}
