/**
 * @mnist-lr/coordinator: admits workers over WebSocket, shards batches, sums exact partial
 * gradients. The surface is the Coordinator and the types of its options and read-outs; the
 * scheduler, the pool and the transport are internal.
 */
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export type { SchedulerStats } from './scheduler.js';
export type { AuthLimiterOptions } from './transport/auth-limiter.js';
export type { Traffic } from './pool.js';
export { checkListen, listenError } from './transport/listen-check.js';
export { RunMonitor, CONNECTION_LOST, type RunInfo, type RunMonitorOptions } from './observe/run-monitor.js';
export { WorkerRecord } from './observe/worker-record.js';
export { statusSchema, runEventSchema, RUN_STATES, type Status, type WorkerStatus, type RunEvent, type RunState } from './observe/status-schema.js';
export { inertText } from './observe/inert.js';
export { formatEta, eta, remaining, RateMeter } from './observe/eta.js';
export { createDashboard, type Dashboard, type DashboardOptions } from './http/dashboard.js';
export { serveDashboard, isLoopbackHost, type DashboardServer } from './http/serve.js';
export { CONTENT_SECURITY_POLICY } from './http/headers.js';
