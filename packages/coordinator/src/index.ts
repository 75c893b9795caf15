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
