/**
 * A training run as others may watch it: the run's monitor (what /status, /metrics and the live
 * page show) and where its dashboard is served. An in-process run with `--dashboard` feeds a
 * monitor of its own through the training loop's hooks and serves it on a loopback port; a run
 * with a coordinator follows the coordinator's monitor, which listens to the coordinator's events
 * and is shown on its port. Either way the end of the run is shown the same: the confusion
 * matrix, where the outputs were written, the model's draw page, kept up `--linger` seconds.
 */
import { once } from 'node:events';

import { evaluate, kernelFingerprint, type CheckpointWrite, type EngineHooks, type TrainingData, type TrainState, type Weights } from '@mnist-lr/core/engine';
import type { DashboardServer, MountedHandler, RunInfo, RunMonitor } from '@mnist-lr/watch';

import type { WatchedCoordinator } from './engines/engine.js';

/** The run as the dashboard names it (its config's name and file, the engine), its data, and how it is served. */
export interface WatchOptions extends Pick<RunInfo, 'name' | 'path' | 'config' | 'engine'> {
  data: TrainingData;
  /** Serve the dashboard from this process on a free loopback port (in-process runs). */
  serve: boolean;
  /** Seconds to keep serving after the run ends. */
  lingerSeconds: number;
  /** Where the dashboard's address is announced. */
  log: (line: string) => void;
}

export class RunWatch {
  /** The monitor the dashboard shows: this process's own, or the coordinator's once followed. */
  private monitor: RunMonitor | undefined;
  private mount: ((prefix: string, handler: MountedHandler) => void) | undefined;

  private constructor(
    private readonly options: WatchOptions,
    private readonly server?: DashboardServer,
    monitor?: RunMonitor,
  ) {
    this.monitor = monitor;
    if (server) this.mount = (prefix, handler) => server.dashboard.mount(prefix, handler);
  }

  /** Serves an in-process run's dashboard when asked (`serve`); otherwise waits for a coordinator to follow. */
  static async start(options: WatchOptions): Promise<RunWatch> {
    if (!options.serve) return new RunWatch(options);
    // Loaded only here: an in-process run without a dashboard needs no server.
    const { RunMonitor, serveDashboard } = await import('@mnist-lr/watch');
    const monitor = new RunMonitor({ name: options.name, path: options.path, config: options.config, dataset: options.data.fingerprint, trainImages: options.data.train.count, kernel: kernelFingerprint(), engine: options.engine });
    const server = await serveDashboard({ monitor });
    options.log(`dashboard: ${server.url}  (also /status, /metrics, /healthz, /readyz)`);
    return new RunWatch(options, server, monitor);
  }

  /** The engine's coordinator listens: its monitor shows this run, under this run's names. */
  follow(coordinator: WatchedCoordinator): void {
    this.monitor = coordinator.monitor;
    this.monitor.describe({ name: this.options.name, path: this.options.path, engine: this.options.engine });
    this.mount = (prefix, handler) => coordinator.mountOnDashboard(prefix, handler);
  }

  /** The run's state, from which it starts (an in-process run; a coordinator tells its monitor itself). */
  startsFrom(state: TrainState): void {
    if (this.server) this.monitor!.resumeAt(state);
  }

  /**
   * The hooks the engine runs. An in-process run with a dashboard feeds its monitor here; a
   * coordinator's monitor listens to the coordinator's own events, so they pass unchanged.
   */
  hooks(inner: EngineHooks): EngineHooks {
    return this.server ? this.monitor!.hooks(inner) : inner;
  }

  checkpointWritten(write: CheckpointWrite): void {
    this.monitor?.checkpointWritten(write.path, write.epoch, write.step);
  }

  /**
   * Mounts the draw page for the written model under /draw/ on the dashboard, behind the
   * dashboard's auth, and links it from the finished view. Nothing when no dashboard is served
   * or the model cannot be read.
   */
  async drawPage(modelPath: string): Promise<void> {
    if (!this.mount || !this.monitor) return;
    try {
      const [{ createPredictHandler }, { loadModel }, { decodeRasters }] = await Promise.all([import('@mnist-lr/watch'), import('@mnist-lr/core'), import('./images/decode.js')]);
      this.mount('/draw/', createPredictHandler({ model: loadModel(modelPath), decode: decodeRasters, admitted: true }));
      this.monitor.link('draw page', '/draw/');
    } catch (e) {
      this.options.log(`note: the draw page is not served on the dashboard (${(e as Error).message})`);
    }
  }

  /** The run's outputs are written: the page shows them, with the test set's confusion matrix. */
  finished(outputs: Record<string, string>, weights: Weights): void {
    if (!this.monitor) return;
    const c = evaluate(weights, this.options.data.test).confusion;
    const rows = Array.from({ length: 10 }, (_, y) => Array.from(c.subarray(10 * y, 10 * y + 10)));
    this.monitor.finished(outputs, rows);
  }

  failed(error: unknown): void {
    this.monitor?.failed(error);
  }

  /** Closes this process's dashboard server at once (the run failed). */
  async shutdown(): Promise<void> {
    await this.server?.close();
  }

  /** Keeps serving `lingerSeconds` (Ctrl-C ends the wait), then closes this process's dashboard server. */
  async close(): Promise<void> {
    if (this.monitor && this.options.lingerSeconds > 0) {
      this.options.log(`the dashboard stays up ${this.options.lingerSeconds} s (Ctrl-C ends it)`);
      const stop = new AbortController();
      await Promise.race([
        new Promise((r) => setTimeout(r, this.options.lingerSeconds * 1000, undefined).unref()),
        once(process, 'SIGINT', { signal: stop.signal }),
        once(process, 'SIGTERM', { signal: stop.signal }),
      ]).catch(() => {});
      stop.abort();
    }
    await this.server?.close();
  }
}
