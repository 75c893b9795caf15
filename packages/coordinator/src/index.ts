/** @mnist-lr/coordinator: admits workers over WebSocket, shards batches, sums exact partial gradients. */
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export { DistributedGradientSource, type SchedulerOptions, type SchedulerStats } from './distributed-source.js';
export { SliceTimer } from './deadlines.js';
export { AuthLimiter, DEFAULT_AUTH_LIMITS, type AuthLimiterOptions } from './transport/auth-limiter.js';
export { Pool, Peer, type PoolOptions, type Traffic } from './pool.js';
export { listen, type ListenOptions, type Listening } from './transport/server.js';
export { Admission, DEFAULT_ADMISSION, type AdmissionLimits, type AdmissionRefusal } from './transport/admission.js';
export { Refusals, worthLogging } from './refusals.js';
export { checkListen, listenError } from './transport/listen-check.js';
