/**
 * The seam between a training run (training-run.ts) and what carries the training out: this
 * thread, local workers, or workers joining over the network. Every engine yields the same
 * weights, bit for bit; the run around it (progress, outputs, checkpoints) is the same for all.
 */
import type { EngineHooks, EpochMetrics, TrainConfig, TrainingData, TrainState, Weights } from '@mnist-lr/core/engine';
import type { MountedHandler, RunMonitor } from '@mnist-lr/watch';

/** A coordinator as the run watches it: its monitor, and the dashboard on its port. */
export interface WatchedCoordinator {
  /** Listens to the coordinator's events; the dashboard shows it. */
  readonly monitor: RunMonitor;
  /** Serves a handler under a prefix on the coordinator's dashboard, behind its auth. */
  mountOnDashboard(prefix: string, handler: MountedHandler): void;
}

/** What an engine may tell the run while it runs. */
export interface EngineUi {
  /** A line above the progress bar. */
  log(line: string): void;
  /** The number of connected workers changed. */
  workers(count: number): void;
  /** The engine's coordinator listens: the run is watched through its monitor and its port. */
  watching(coordinator: WatchedCoordinator): void;
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
