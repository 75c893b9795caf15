/** @mnist-lr/coordinator: admits workers over WebSocket, shards batches, sums exact partial gradients. */
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export { SliceScheduler, type SchedulerOptions, type SchedulerStats, type SchedulerPeer, type SchedulerWorkers } from './scheduler.js';
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export { SliceTimer } from './deadlines.js';
export { AuthLimiter, DEFAULT_AUTH_LIMITS, type AuthLimiterOptions } from './transport/auth-limiter.js';
export { Pool, Peer, type PoolOptions, type Traffic } from './pool.js';
export { listen, type ListenOptions, type Listening } from './transport/server.js';
