/**
 * The run's monitor listening to its coordinator: what /status, /metrics and the page on the
 * coordinator's port show. The one file of this package that knows the monitor's methods; the
 * coordinator itself only emits its events.
 */
import type { KeptCounts, RunMonitor } from '@mnist-lr/watch';

import type { CoordinatorEvents } from './events.js';

/** Makes `monitor` follow `events`, showing `kept` (the coordinator's own counts) as they grow. */
export function monitorListens(monitor: RunMonitor, events: CoordinatorEvents, kept: KeptCounts): void {
  monitor.countsFrom(kept);
  events.on('start', (state) => monitor.resumeAt(state));
  events.on('state', (state, reason) => monitor.setState(state, reason));
  events.on('failed', (error) => monitor.failed(error));
  events.on('step', (info, state) => monitor.onStep(info, state));
  events.on('epoch', (metrics, state) => monitor.onEpoch(metrics, state));
  events.on('join', (worker, label) => monitor.joined(worker, label));
  events.on('leave', (worker, reason, detail, evicted) => monitor.left(worker, reason, detail, evicted));
  events.on('refuse', (peer, reason, detail, shown) => monitor.refused(peer, reason, detail, shown));
  events.on('release', (reason) => monitor.releasedAll(reason));
  events.on('reassign', (reason) => monitor.reassigned(reason));
  events.on('backup', () => monitor.backup());
}
