/**
 * @mnist-lr/coordinator: admits workers over WebSocket, shards batches, sums exact partial
 * gradients. For users: the Coordinator and the types of its options and read-outs. For the
 * command line: the listen check. The run's monitor and dashboard are @mnist-lr/watch's; the
 * coordinator feeds its monitor and serves the dashboard on its own port. The scheduler, the
 * pool and the WebSocket transport are internal.
 */
export { Coordinator, type CoordinatorOptions } from './coordinator.js';
export type { CoordinatorEventMap, CoordinatorEvents } from './events.js';
export type { SchedulerStats } from './scheduler.js';
export type { Traffic } from './pool.js';
export type { AdmissionLimits } from './transport/admission.js';
export { checkListen, listenError } from './transport/listen-check.js';
