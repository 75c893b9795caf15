/**
 * @mnist-lr/watch/status: the zod schemas of GET /status and of its events, and of the join page's
 * GET /join/run, to validate what a run's endpoints answer. A subpath of its own, so that a run, which only builds statuses, does not
 * load the schema library.
 */
export { statusSchema, runEventSchema, type Status, type WorkerStatus, type RunEvent, type RunState, type EventKind } from './monitor/status-schema.js';
export { joinSummarySchema, type JoinSummary } from './join/join-schema.js';
