/**
 * `@mnist-lr/watch/monitor`: a run's observable state without any server. The run monitor, what
 * it records of a worker, and the ETA helpers, for a progress bar or an in-process run: the
 * package root also loads the HTTP servers (prom-client only with a dashboard's first scrape).
 */
export { RunMonitor, CONNECTION_LOST, type KeptCounts, type ReasonCounts, type RunInfo, type RunMonitorOptions, type TrafficCounts } from './run-monitor.js';
export { WorkerRecord } from './worker-record.js';
export { eta, remaining, formatEta, RateMeter, type Remaining } from './eta.js';
export type { Status, WorkerStatus, RunEvent, RunState, EventKind } from './status-schema.js';
