/**
 * A training run as others may watch it: the run's monitor (what /status, /metrics and the live
 * page show), the dashboard server of an in-process run (`train --workers 0 --dashboard`; a
 * coordinator serves its own on its port), and the end of the run as the page shows it: the
 * confusion matrix and where the outputs were written, kept up `--linger` seconds if asked.
 */
import { once } from 'node:events';

import type { DashboardServer, MountedHandler } from '@mnist-lr/watch';
// The monitor alone: the package root loads the servers and prom-client, which an in-process
// run needs only when it serves the dashboard.
import { RunMonitor } from '@mnist-lr/watch/monitor';
import { evaluate, kernelFingerprint, splitTrainingSet, stepsPerEpoch, type CheckpointWrite, type EngineHooks, type TrainConfig, type TrainingData, type TrainState, type Weights } from '@mnist-lr/core';

export interface WatchOptions {
  name: string;
  path: string;
  config: TrainConfig;
  data: TrainingData;
  /** The engine's description ("in-process", "coordinator with 2 local worker threads"). */
  engine: string;
  /** Serve the dashboard from this process on a free loopback port (in-process runs). */
  serve: boolean;
  /** Seconds to keep serving after the run ends. */
  lingerSeconds: number;
  /** Where the dashboard's address is announced. */
  log: (line: string) => void;
}

export class RunWatch {
  private constructor(
    readonly monitor: RunMonitor,
    private readonly server: DashboardServer | undefined,
    private readonly options: WatchOptions,
  ) {}

  static async start(options: WatchOptions): Promise<RunWatch> {
    const { config, data } = options;
    const monitor = new RunMonitor({
      name: options.name,
      path: options.path,
      config,
      dataset: data.fingerprint,
      kernel: kernelFingerprint(),
      engine: options.engine,
      stepsPerEpoch: stepsPerEpoch(splitTrainingSet(data.train.count, config).train.length, config.batch_size),
    });
    const server = options.serve ? await (await import('@mnist-lr/watch')).serveDashboard({ monitor }) : undefined;
    if (server) options.log(`dashboard: ${server.url}  (also /status, /metrics, /healthz, /readyz)`);
    return new RunWatch(monitor, server, options);
  }

  /** Where a resumed run starts, for an in-process run (a coordinator tells its monitor itself). */
  resumeAt(state: TrainState | undefined): void {
    if (this.server && state) this.monitor.resumeAt(state);
  }

  /**
   * The hooks the engine runs. An in-process run feeds the monitor here; a coordinator wraps its
   * hooks with the monitor itself, so they pass unchanged.
   */
  hooks(inner: EngineHooks): EngineHooks {
    return this.server ? this.monitor.hooks(inner) : inner;
  }

  checkpointWritten(write: CheckpointWrite): void {
    this.monitor.checkpointWritten(write.path, write.epoch, write.step);
  }

  /**
   * Mounts the draw page for the written model under /draw/ on the dashboard (this process's, or
   * the engine's coordinator's through `mount`), behind the dashboard's auth, and links it from
   * the finished view. Nothing when no dashboard is served or the model cannot be read.
   */
  async drawPage(modelPath: string, mount?: (prefix: string, handler: MountedHandler) => void): Promise<void> {
    const to = this.server ? (prefix: string, handler: MountedHandler) => this.server!.dashboard.mount(prefix, handler) : mount;
    if (!to) return;
    try {
      const [{ createPredictHandler }, { loadModel }, { decodeRasters }] = await Promise.all([import('@mnist-lr/watch'), import('@mnist-lr/core'), import('./images/decode.js')]);
      to('/draw/', createPredictHandler({ model: loadModel(modelPath), decode: decodeRasters, admitted: true }));
      this.monitor.link('draw page', '/draw/');
    } catch (e) {
      this.options.log(`note: the draw page is not served on the dashboard (${(e as Error).message})`);
    }
  }

  /** The run's outputs are written: the page shows them, with the test set's confusion matrix. */
  finished(outputs: Record<string, string>, weights: Weights): void {
    const c = evaluate(weights, this.options.data.test).confusion;
    const rows = Array.from({ length: 10 }, (_, y) => Array.from(c.subarray(10 * y, 10 * y + 10)));
    this.monitor.finished(outputs, rows);
  }

  failed(error: unknown): void {
    this.monitor.failed(error);
  }

  /** Closes the dashboard server at once (the run failed). */
  async shutdown(): Promise<void> {
    await this.server?.close();
  }

  /** Keeps serving `lingerSeconds` (Ctrl-C ends the wait), then closes the dashboard server. */
  async close(): Promise<void> {
    if (this.options.lingerSeconds > 0) {
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
