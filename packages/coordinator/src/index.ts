/**
 * @mnist-lr/coordinator: admits workers over WebSocket, shards batches, sums exact partial
 * gradients. For users: the Coordinator and the types of its options and read-outs. For the
 * command line: the listen check and the run's watching surface (monitor, status, dashboard).
 * The scheduler, the pool and the WebSocket transport are internal.
 */
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export type { SchedulerStats } from './scheduler.js';
export type { AuthLimiterOptions } from './transport/auth-limiter.js';
export type { Traffic } from './pool.js';
export type { AdmissionLimits } from './transport/admission.js';
export { checkListen, listenError } from './transport/listen-check.js';
export { RunMonitor, type RunInfo, type RunMonitorOptions } from './observe/run-monitor.js';
export { statusSchema, runEventSchema, type Status, type WorkerStatus, type RunEvent, type RunState } from './observe/status-schema.js';
export { serveDashboard, type DashboardServer } from './http/serve.js';
export type { Dashboard, MountedHandler } from './http/dashboard.js';
export { eta, remaining, formatEta, RateMeter, type Remaining } from './observe/eta.js';
