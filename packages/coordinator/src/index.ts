/** @mnist-lr/coordinator: admits workers over WebSocket, shards batches, sums exact partial gradients. */
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export { DistributedGradientSource, type SchedulerOptions, type SchedulerStats } from './distributed-source.js';
export { SliceTimer } from './deadlines.js';
export { AuthLimiter, DEFAULT_AUTH_LIMITS, type AuthLimiterOptions } from './transport/auth-limiter.js';
export { Pool, Peer, type PoolOptions, type Traffic } from './pool.js';
export { listen, type ListenOptions, type Listening } from './transport/server.js';
export { RunMonitor, CONNECTION_LOST, type RunInfo, type RunMonitorOptions } from './observe/run-monitor.js';
export { WorkerRecord } from './observe/worker-record.js';
export { statusSchema, runEventSchema, RUN_STATES, type Status, type WorkerStatus, type RunEvent, type RunState } from './observe/status-schema.js';
export { inertText } from './observe/inert.js';
export { formatEta, eta, remaining, RateMeter } from './observe/eta.js';
export { createDashboard, type Dashboard, type DashboardOptions } from './http/dashboard.js';
export { serveDashboard, isLoopbackHost, type DashboardServer } from './http/serve.js';
export { CONTENT_SECURITY_POLICY } from './http/headers.js';
