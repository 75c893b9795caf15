/** `mnist-lr coordinator`: the engine that waits for workers from anywhere to join. */
import type { Coordinator, CoordinatorOptions } from '@mnist-lr/coordinator';
import { Coordinator as CoordinatorClass } from '@mnist-lr/coordinator';

import type { TrainingEngine } from './engine.js';
import { verifySummary } from './verify-summary.js';

export interface RemoteWorkersOptions {
  host: string;
  port: number;
  token: string;
  minWorkers: number;
  workerWaitMs: number;
  stepTimeoutMs: number;
  backupFactor: number;
  /** The fraction of slices computed twice and compared (--verify). */
  verify: number;
  tls?: CoordinatorOptions['tls'];
  /** Serve a join link for browser workers. */
  join: boolean;
  /** The folder of the MNIST files (what a join link's tabs download). */
  dataDir?: string;
  log: (line: string) => void;
  onWorkers?: (count: number) => void;
  /** Called once the coordinator listens, with its address. */
  onListening?: (coordinator: Coordinator) => void;
}

export function remoteWorkersEngine(options: RemoteWorkersOptions): TrainingEngine {
  return {
    description: `coordinator on ${options.host}:${options.port}, at least ${options.minWorkers} worker${options.minWorkers === 1 ? '' : 's'}`,
    workers: options.minWorkers,
    async run({ config, data, hooks, state, signal }) {
      const coordinator = await CoordinatorClass.start({
        config,
        data,
        token: options.token,
        host: options.host,
        port: options.port,
        tls: options.tls,
        minWorkers: options.minWorkers,
        workerWaitMs: options.workerWaitMs,
        stepTimeoutMs: options.stepTimeoutMs,
        backupFactor: options.backupFactor,
        verify: options.verify,
        join: options.join,
        dataDir: options.dataDir,
        state,
        hooks,
        signal,
        log: options.log,
        onWorkers: options.onWorkers,
      });
      options.onListening?.(coordinator);
      try {
        const state = await coordinator.run();
        const verified = verifySummary(coordinator, options.verify);
        if (verified) options.log(verified);
        // The port serves the dashboard until the run's outputs are shown on it.
        return { weights: state.weights, history: state.history, release: () => coordinator.close() };
      } catch (e) {
        await coordinator.close();
        throw e;
      }
    },
  };
}
