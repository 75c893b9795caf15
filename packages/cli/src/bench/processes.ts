/**
 * Whole processes timed from outside, with their peak memory as the operating system accounts it.
 *
 * Each command runs under GNU time (`/usr/bin/time -f %M`), which reports the child's peak
 * resident set (ru_maxrss of the waited process: every thread of it included). Node has no
 * getrusage of children, and sampling /proc from here would miss short peaks. Where GNU time is
 * missing, runs are still timed and the memory column says why it is empty.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { median } from './stats.js';

/** GNU time, as Debian's `time` package installs it. */
const GNU_TIME = '/usr/bin/time';

/** A command to measure: what to run, and how to show it in a table. */
export interface Command {
  label: string;
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** One run of a command. */
export interface Run {
  /** Wall-clock seconds from spawn to exit. */
  seconds: number;
  /** Peak resident set in MiB, or null where GNU time is missing. */
  peakMiB: number | null;
}

/** Medians over the runs of one command. */
export interface Measured {
  label: string;
  seconds: number;
  peakMiB: number | null;
  runs: number;
}

/** Why peak memory cannot be measured here, or null when it can. */
export function peakMemoryUnavailable(): string | null {
  return existsSync(GNU_TIME) ? null : `${GNU_TIME} (GNU time, Debian package "time") is not installed`;
}

/** Runs `command` once; rejects, with its last lines of output, when it fails. */
export function runOnce(command: Command): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-lr-bench-'));
  const report = join(dir, 'rusage');
  const gnuTime = peakMemoryUnavailable() === null;
  const [file, args] = gnuTime ? [GNU_TIME, ['-f', '%M', '-o', report, command.file, ...command.args]] : [command.file, command.args];
  return new Promise<Run>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { cwd: command.cwd, env: command.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', (e) => {
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`${command.label}: cannot start ${file}: ${e.message}`));
    });
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      let peakMiB: number | null = null;
      try {
        if (gnuTime) peakMiB = Number(readFileSync(report, 'utf8').trim().split('\n').pop()) / 1024;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      if (code !== 0) reject(new Error(`${command.label} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
      else resolve({ seconds, peakMiB });
    });
  });
}

/**
 * Runs every command `runs` times, interleaved (a, b, c, a, b, c, …) so that a slow spell of a
 * shared machine falls on all of them alike, and returns the medians in the order given.
 */
export async function interleaved(commands: readonly Command[], runs: number, log: (line: string) => void): Promise<Measured[]> {
  const all = commands.map(() => [] as Run[]);
  for (let r = 0; r < runs; r++) {
    for (const [i, command] of commands.entries()) {
      const run = await runOnce(command);
      all[i]!.push(run);
      log(`${command.label}: ${run.seconds.toFixed(2)} s${run.peakMiB === null ? '' : `, ${run.peakMiB.toFixed(0)} MiB`} (run ${r + 1}/${runs})`);
    }
  }
  return commands.map((c, i) => {
    const runsOf = all[i]!;
    const peaks = runsOf.map((x) => x.peakMiB);
    return {
      label: c.label,
      seconds: median(runsOf.map((x) => x.seconds)),
      peakMiB: peaks.every((p): p is number => p !== null) ? median(peaks) : null,
      runs: runsOf.length,
    };
  });
}
