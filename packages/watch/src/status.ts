/**
 * @mnist-lr/watch/status: the zod schemas of GET /status and of its events, to validate what a
 * run's endpoint answers. A subpath of its own, so that a run, which only builds statuses, does not
 * load the schema library.
 */
export { statusSchema, runEventSchema, type Status, type WorkerStatus, type RunEvent, type RunState, type EventKind } from './monitor/status-schema.js';
