/**
 * The seam between a training run (training-run.ts) and what carries the training out: this
 * thread, local workers, or workers joining over the network. Every engine yields the same
 * weights, bit for bit; the run around it (progress, outputs, checkpoints) is the same for all.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { EngineHooks, EpochMetrics, TrainConfig, TrainingData, TrainState, Weights } from '@mnist-lr/core';
import type { RunMonitor } from '@mnist-lr/watch';

/** What an engine may tell the user while it runs. */
export interface EngineUi {
  /** A line above the progress bar. */
  log(line: string): void;
  /** The number of connected workers changed. */
  workers(count: number): void;
}

/** What an engine is given: a validated config, prepared data and the hooks to report to. */
export interface TrainingJob {
  config: TrainConfig;
  data: TrainingData;
  /** onStep drives the progress bar and checkpoints; onEpoch records and checkpoints the epoch (it is awaited). */
  hooks: EngineHooks;
  /** The state to continue from (a resumed run); a fresh one when absent. */
  state?: TrainState;
  signal?: AbortSignal;
  /** The run's monitor: a coordinator shows it on its port (see watch.ts). */
  monitor?: RunMonitor;
}

/** What an engine returns: the final weights and every epoch's metrics. */
export interface TrainingOutcome {
  weights: Weights;
  history: EpochMetrics[];
  /**
   * Stops what the engine still holds open (its coordinator, whose port serves the dashboard);
   * called once the run's outputs are written and shown.
   */
  release?: () => Promise<void>;
  /** Serves a handler under a prefix on the engine's own dashboard (its coordinator's port), behind its auth. */
  mount?: (prefix: string, handler: (req: IncomingMessage, res: ServerResponse) => void) => void;
}

/** One way of carrying out training. */
export interface TrainingEngine {
  /** For the log header and the terminal: "in-process", "coordinator, 3 local workers". */
  readonly description: string;
  /** Recorded in the metrics file's start line: 0 in-process. */
  readonly workers: number;
  /**
   * Whether the engine runs worker threads in this process. The run then draws its plots only at
   * the end, once they are gone: drawing loads vega and resvg (about 30 MiB), which on top of
   * the threads' isolates would set the run's peak memory.
   */
  readonly threads?: boolean;
  run(job: TrainingJob): Promise<TrainingOutcome>;
}
