/**
 * `mnist-lr report`: rebuild every run's plots and the origin-style results table from the
 * metrics files in a logs folder, and optionally put the table into a README.
 *
 * The table goes to stdout (so `mnist-lr report > results.md` works); what was done and what
 * was skipped goes to stderr.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

import { MnistLrError, shortName, writeFileAtomic } from '@mnist-lr/core/engine';

import { badOption, markUsage } from '../errors.js';
import { displayPath } from '../outputs/format.js';
import { METRICS_SUFFIX } from '../outputs/recorder.js';
import { readMetricsFile, replaceBetweenMarkers, resultsTable, type MetricsFile } from '../outputs/report.js';

export const RESULTS_START = '<!-- results:start -->';
export const RESULTS_END = '<!-- results:end -->';

/** The origin's four configs lead the table, in the origin's order; other runs follow by name. */
const FIRST = ['config_sample', 'config_1', 'config_2', 'config_3'];

export interface ReportCommandOptions {
  /** Folder of `<name>.metrics.jsonl` files. */
  logs: string;
  /** Folder for the plots; default: `assets` beside the logs folder. */
  assets?: string;
  /** A markdown file whose section between the results markers is replaced by the table. */
  readme?: string;
}

/** Sorts run names: the origin's configs first, in its order, then the rest alphabetically. */
export function compareRunNames(a: string, b: string): number {
  const ia = FIRST.indexOf(a);
  const ib = FIRST.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? FIRST.length : ia) - (ib < 0 ? FIRST.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

export async function reportCommand(
  options: ReportCommandOptions,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  const logs = resolve(options.logs);
  const assets = resolve(options.assets ?? join(dirname(logs), 'assets'));
  const runs = readRuns(logs, stderr);
  // Check the README before drawing anything, so a file without markers fails fast.
  const readme = options.readme === undefined ? undefined : readReadme(options.readme);

  // Loaded here, not at startup: vega and resvg take a third of a second to import.
  const { writePlots } = await import('../outputs/plots.js');
  for (const run of runs) {
    const { name, config } = run.start;
    if (!run.complete) {
      stderr.write(
        `note: ${name} is incomplete (${run.epochs.length} of ${config.num_epoches} epochs): the run was interrupted or is still going\n`,
      );
    }
    if (run.epochs.length === 0) continue;
    const short = shortName(name);
    await writePlots(run.epochs, name, join(assets, `loss_${short}.png`), join(assets, `accr_${short}.png`));
  }
  const plotted = runs.filter((r) => r.epochs.length > 0).length;
  stderr.write(`redrew the plots of ${plotted} run${plotted === 1 ? '' : 's'} in ${displayPath(assets)}\n`);

  const table = resultsTable(
    runs.map((r) => ({ name: r.start.name, shortName: shortName(r.start.name), config: r.start.config, epochs: r.epochs })),
  );
  stdout.write(table);

  if (readme !== undefined) {
    writeFileAtomic(readme.path, replaceBetweenMarkers(readme.text, RESULTS_START, RESULTS_END, table));
    stderr.write(`updated the results section of ${displayPath(resolve(readme.path))}\n`);
  }
  return table;
}

/** Every readable metrics file of `logs`, in table order; unreadable ones are reported and skipped. */
function readRuns(logs: string, stderr: NodeJS.WritableStream): MetricsFile[] {
  if (!existsSync(logs) || !statSync(logs).isDirectory()) {
    throw badOption(`--logs ${logs}: no such folder; train first (mnist-lr train --config FILE) or point --logs at the logs folder of a run`);
  }
  const files = readdirSync(logs).filter((f) => f.endsWith(METRICS_SUFFIX)).sort();
  if (files.length === 0) {
    throw badOption(`--logs ${logs}: no *${METRICS_SUFFIX} files there; train first (mnist-lr train --config FILE) or point --logs at the logs folder of a run`);
  }
  const byName = new Map<string, MetricsFile>();
  for (const f of files) {
    const path = join(logs, f);
    let run: MetricsFile;
    try {
      run = readMetricsFile(path);
    } catch (e) {
      stderr.write(`warning: skipping ${(e as Error).message}\n`);
      continue;
    }
    const name = run.start.name;
    if (byName.has(name)) {
      stderr.write(`warning: skipping ${path}: a run named "${name}" was already read from another file\n`);
      continue;
    }
    if (basename(f, METRICS_SUFFIX) !== name) {
      stderr.write(`note: ${path} holds run "${name}"; it is reported under that name\n`);
    }
    byName.set(name, run);
  }
  if (byName.size === 0) {
    throw new MnistLrError('FILE_UNREADABLE', `${logs}: none of its ${files.length} metrics files could be read (see the warnings above)`);
  }
  return [...byName.values()].sort((a, b) => compareRunNames(a.start.name, b.start.name));
}

/** The README's text, checked to have one pair of results markers in order. */
function readReadme(path: string): { path: string; text: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? String(e);
    throw markUsage(new MnistLrError('FILE_UNREADABLE', `--readme ${path}: cannot read it (${why})`, { cause: e }));
  }
  try {
    replaceBetweenMarkers(text, RESULTS_START, RESULTS_END, '');
  } catch (e) {
    throw badOption(
      `--readme ${path}: ${(e as Error).message}; put the lines ${RESULTS_START} and ${RESULTS_END} where the table should go`,
    );
  }
  return { path, text };
}
