/**
 * Time to accuracy: whole `train --workers 0` processes of a config meant to reach the linear
 * model's ceiling (about 0.926 test accuracy) quickly, its schedule steered by a validation split.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BIN, mib, REPO_ROOT } from './origin.js';
import { interleaved } from './processes.js';
import { table } from './stats.js';

export interface AccuracyBenchOptions {
  config: string;
  runs: number;
  log: (line: string) => void;
}

/** Test accuracy the fast config must reach, and the whole-process time it should take, in seconds. */
const TARGET = { accuracy: 0.926, seconds: 3 };

export async function benchAccuracy(options: AccuracyBenchOptions): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'mnist-lr-bench-accuracy-'));
  try {
    const config = join(REPO_ROOT, 'configs', `${options.config}.json`);
    const [run] = await interleaved([{ label: `train ${options.config} --workers 0`, file: process.execPath, args: [BIN, 'train', '--config', config, '--workers', '0', '--out', out] }], options.runs, options.log);
    // The last epoch's test accuracy: the run's result, not the best epoch picked by the test set.
    const lines = readFileSync(join(out, 'logs', `${options.config}.metrics.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; epoch?: number; testAccuracy?: number });
    const last = lines.filter((l) => l.type === 'epoch').pop()!;
    const met = last.testAccuracy! >= TARGET.accuracy && run!.seconds <= TARGET.seconds;
    return table(
      ['config', 'epochs', 'final test accuracy', 'seconds (median)', 'peak RSS (MiB)', 'runs', 'target'],
      [[options.config, String(last.epoch), last.testAccuracy!.toFixed(4), run!.seconds.toFixed(2), mib(run!.peakMiB), String(options.runs), `≥ ${TARGET.accuracy} in ≤ ${TARGET.seconds} s: ${met ? 'met' : 'missed'}`]],
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
