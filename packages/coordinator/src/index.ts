/** @mnist-lr/coordinator: admits workers over WebSocket, shards batches, sums exact partial gradients. */
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export { DistributedGradientSource, type SchedulerOptions } from './distributed-source.js';
export { Pool, Peer, type PoolOptions } from './pool.js';
export { listen, type ListenOptions, type Listening } from './transport/server.js';
