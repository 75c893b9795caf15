/**
 * @mnist-lr/coordinator: admits workers over WebSocket, shards batches, sums exact partial
 * gradients. The surface is the Coordinator and the types of its options and read-outs; the
 * scheduler, the pool and the transport are internal. The run's monitor and its HTTP surface
 * (status schema, a dashboard server for runs without a coordinator, the ETA helpers the
 * command line shares) are public, for whoever watches a run.
 */
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export type { SchedulerStats } from './scheduler.js';
export type { AuthLimiterOptions } from './transport/auth-limiter.js';
export type { Traffic } from './pool.js';
export { checkListen, listenError } from './transport/listen-check.js';
export { RunMonitor, type RunInfo, type RunMonitorOptions } from './observe/run-monitor.js';
export { statusSchema, runEventSchema, type Status, type WorkerStatus, type RunEvent, type RunState } from './observe/status-schema.js';
export { serveDashboard, type DashboardServer } from './http/serve.js';
export { eta, remaining, formatEta, RateMeter, type Remaining } from './observe/eta.js';
