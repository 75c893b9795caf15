/**
 * Start-up time and peak memory of whole mnist-lr processes, against `node -e 0` measured in the
 * same run: what issue 12 bounds (`--version` in at most 3× node's own start, `train --workers 2`
 * in at most 250 MB with its threads, `--workers 0` in at most 150 MB).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BIN, mib, REPO_ROOT } from './origin.js';
import { interleaved, peakMemoryUnavailable, type Command, type Measured } from './processes.js';
import { table } from './stats.js';

export interface FootprintBenchOptions {
  runs: number;
  log: (line: string) => void;
}

/** Peak resident set limits in MB (10⁶ bytes), as issue 12 states them. */
const LIMIT_MB = { workers0: 150, workers2: 250 };

export async function benchFootprint(options: FootprintBenchOptions): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'mnist-lr-bench-footprint-'));
  const config = join(REPO_ROOT, 'configs', 'config_1.json');
  const train = (workers: number): string[] => [BIN, 'train', '--config', config, '--epochs', '1', '--workers', String(workers), '--out', out];
  const node = process.execPath;
  const commands: Command[] = [
    { label: 'node -e 0', file: node, args: ['-e', '0'] },
    { label: 'mnist-lr --version', file: node, args: [BIN, '--version'] },
    { label: 'train config_1 --epochs 1 --workers 0', file: node, args: train(0) },
    { label: 'train config_1 --epochs 1 --workers 2 (threads)', file: node, args: train(2) },
  ];
  let measured: Measured[];
  try {
    measured = await interleaved(commands, options.runs, options.log);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const [bare, version, w0, w2] = [measured[0]!, measured[1]!, measured[2]!, measured[3]!];
  const mb = (x: number | null): string => (x === null ? 'n/a' : (x * 1.048576).toFixed(0));
  const verdict = (x: number | null, limit: number): string => (x === null ? `≤ ${limit} MB (not measured)` : `≤ ${limit} MB: ${x * 1.048576 <= limit ? 'met' : 'missed'}`);
  const timeVerdict = `≤ 3×: ${version.seconds / bare.seconds <= 3 ? 'met' : 'missed'}`;
  const rows = [
    [bare.label, bare.seconds.toFixed(3), '1.00×', mib(bare.peakMiB), mb(bare.peakMiB), ''],
    [version.label, version.seconds.toFixed(3), `${(version.seconds / bare.seconds).toFixed(2)}×`, mib(version.peakMiB), mb(version.peakMiB), timeVerdict],
    [w0.label, w0.seconds.toFixed(2), `${(w0.seconds / bare.seconds).toFixed(1)}×`, mib(w0.peakMiB), mb(w0.peakMiB), verdict(w0.peakMiB, LIMIT_MB.workers0)],
    [w2.label, w2.seconds.toFixed(2), `${(w2.seconds / bare.seconds).toFixed(1)}×`, mib(w2.peakMiB), mb(w2.peakMiB), verdict(w2.peakMiB, LIMIT_MB.workers2)],
  ];
  const note = peakMemoryUnavailable();
  return table(['process', 'seconds (median)', '÷ node -e 0', 'peak RSS (MiB)', 'peak RSS (MB)', 'target'], rows) + (note ? `\n\nPeak memory not measured: ${note}.` : '');
}
