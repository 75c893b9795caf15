/**
 * What a coordinator tells whoever watches it, as it happens: the run's monitor (which the
 * dashboard on the coordinator's port shows) listens to these, and so may a program that hosts
 * the coordinator (`coordinator.events.on('leave', …)`). The coordinator never waits on a
 * listener; a listener must not throw.
 */
import type { EventEmitter } from 'node:events';

import type { EpochMetrics, StepInfo, TrainState } from '@mnist-lr/core/engine';
import type { Reason } from '@mnist-lr/core/protocol';
import type { RunState, WorkerRecord } from '@mnist-lr/watch';

export interface CoordinatorEventMap {
  /** run() begins, from `state` (a fresh one, or one to resume). */
  start: [state: TrainState];
  /** The run waits for workers (with why), trains, or has finished. */
  state: [state: RunState, reason: string | null];
  /** run() failed; the workers were let go first. */
  failed: [error: unknown];
  /** After every optimiser step, before the `hooks` given to start(). */
  step: [info: StepInfo, state: TrainState];
  /** After every epoch's evaluation and decay, before the `hooks` given to start(). */
  epoch: [metrics: EpochMetrics, state: TrainState];
  /** A worker completed its handshake; `worker` is updated in place as it works (slices, bytes, last heard). */
  join: [worker: WorkerRecord, label: string];
  /** A worker's connection ended: `evicted` when the coordinator closed it for `reason`. */
  leave: [worker: WorkerRecord, reason: Reason | undefined, detail: string, evicted: boolean];
  /** A connection was refused before it joined; `shown`: one the log shows too (they are thinned per reason). */
  refuse: [peer: string, reason: Reason, detail: string, shown: boolean];
  /** The run ended and every worker still connected was let go with `reason`. */
  release: [reason: Reason];
  /** A slice went to another worker: its own was lost for `reason`. */
  reassign: [reason: Reason | undefined];
  /** A slow slice was also sent to a backup worker, or taken over by the coordinator's own thread (a late shared-memory worker's). */
  backup: [];
}

export type CoordinatorEvents = EventEmitter<CoordinatorEventMap>;
