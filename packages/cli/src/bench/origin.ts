/**
 * Whole `train --workers 0` processes beside the NumPy origin's algorithm (bench/origin.py at the
 * repository root), interleaved in one run: the yardstick issue 12 measures start-up and the
 * in-process path against.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { defaultMnistDir } from '@mnist-lr/core/engine';

import { interleaved, type Command } from './processes.js';
import { table } from './stats.js';

/** The repository root, seen from src/bench or dist/bench of the cli package. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** The command this package builds. */
export const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));
const SCRIPT = join(REPO_ROOT, 'bench', 'origin.py');

/** Why the NumPy origin cannot run here, or null when it can. */
export function originUnavailable(): string | null {
  if (!existsSync(SCRIPT)) return `${SCRIPT} is missing (it is in the repository, not in the published package)`;
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error) return `python3 cannot be started (${probe.error.message})`;
  if (probe.status !== 0) return `python3 has no numpy (${probe.stderr.trim().split('\n').pop() ?? ''})`;
  return null;
}

/**
 * NumPy's BLAS starts a thread per core by default. On a 2-core machine that other work shares,
 * those threads spin against each other: a batch-100 epoch took 10× longer than with one thread.
 * One thread is the origin's best case here, so the ratio is not flattered.
 */
const ONE_BLAS_THREAD = { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

/** The share of the NumPy origin's time a whole `train --workers 0` run aims at. */
const ORIGIN_TARGET = 0.5;

export interface OriginBenchOptions {
  configs: string[];
  runs: number;
  log: (line: string) => void;
}

/** A markdown table: per config, the medians of both programs' wall time and peak memory. */
export async function benchOrigin(options: OriginBenchOptions): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'mnist-lr-bench-origin-'));
  const rows: string[][] = [];
  try {
    for (const name of options.configs) {
      const config = join(REPO_ROOT, 'configs', `${name}.json`);
      const commands: Command[] = [
        { label: `NumPy origin, ${name}`, file: 'python3', args: [SCRIPT, config, defaultMnistDir()], env: { ...process.env, ...ONE_BLAS_THREAD } },
        { label: `mnist-lr train ${name} --workers 0`, file: process.execPath, args: [BIN, 'train', '--config', config, '--workers', '0', '--out', out] },
      ];
      const [numpy, ours] = await interleaved(commands, options.runs, options.log);
      rows.push([
        name,
        numpy!.seconds.toFixed(2),
        ours!.seconds.toFixed(2),
        `${(ours!.seconds / numpy!.seconds).toFixed(2)}×`,
        mib(numpy!.peakMiB),
        mib(ours!.peakMiB),
        String(options.runs),
        `≤ ${ORIGIN_TARGET}×: ${ours!.seconds / numpy!.seconds <= ORIGIN_TARGET ? 'met' : 'missed'}`,
      ]);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return table(['config (all epochs)', 'NumPy origin (s)', 'mnist-lr --workers 0 (s)', 'mnist-lr ÷ NumPy', 'NumPy peak RSS (MiB)', 'mnist-lr peak RSS (MiB)', 'runs', 'target'], rows);
}

export function mib(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(0);
}
