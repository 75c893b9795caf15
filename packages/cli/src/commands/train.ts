/**
 * `mnist-lr train`: a training run (training-run.ts) whose engine `--workers` chooses: this
 * process for 0, else a coordinator on loopback with that many local workers.
 */
import type { RunPaths } from '../outputs/recorder.js';
import type { EngineUi, TrainingEngine } from '../engines/engine.js';
import { inProcessEngine } from '../engines/in-process.js';
import { localWorkersEngine, type WorkerMode } from '../engines/local-workers.js';
import { resolveRunConfig, trainingRun, type RunOptions } from '../training-run.js';
import { badOption } from '../errors.js';

export interface TrainCommandOptions extends RunOptions {
  /** 0: train in this process; N ≥ 1: N parties, a coordinator computing a share and N − 1 local workers. */
  workers: number;
  /** Local workers as threads (default) or child processes. */
  workerMode?: WorkerMode;
  /** The fraction of slices computed twice and compared, with workers (--verify). Default 0. */
  verify?: number;
}

export function trainCommand(options: TrainCommandOptions, stdout: NodeJS.WriteStream = process.stdout): Promise<RunPaths> {
  return trainingRun(resolveRunConfig(options), options, (ui) => selectEngine(options, ui), stdout);
}

/** The engine for `--workers N`: in this process for 0, else a coordinator with N local workers. */
function selectEngine(options: TrainCommandOptions, ui: EngineUi): TrainingEngine {
  if (options.workers === 0) {
    if (options.verify) throw badOption(`--verify checks the results of workers, and --workers 0 has none; add --workers N`);
    return inProcessEngine;
  }
  return localWorkersEngine({
    verify: options.verify ?? 0,
    workers: options.workers,
    mode: options.workerMode ?? 'thread',
    dataDir: options.dataDir,
    log: (line) => ui.log(line),
    onWorkers: (count) => ui.workers(count),
    onListening: (coordinator) => ui.watching(coordinator),
  });
}
