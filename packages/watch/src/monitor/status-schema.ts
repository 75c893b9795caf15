/**
 * The shape of GET /status, as a zod schema: the endpoint's contract, checked by tests in every
 * state of a run, and the type the monitor builds. Times are milliseconds since the epoch (UTC)
 * unless the name says seconds; durations of slices are milliseconds.
 */
import { z } from 'zod';

import { RUN_STATES } from './run-states.js';

export { RUN_STATES, type RunState } from './run-states.js';

const count = z.number().int().nonnegative();
const byReason = z.record(z.string(), count);


const epochMetricsSchema = z.object({
  epoch: z.number().int().positive(),
  lr: z.number().positive(),
  trainLoss: z.number(),
  trainAccuracy: z.number().min(0).max(1),
  testLossSum: z.number(),
  testLoss: z.number(),
  testAccuracy: z.number().min(0).max(1),
  valLossSum: z.number().optional(),
  valLoss: z.number().optional(),
  valAccuracy: z.number().min(0).max(1).optional(),
  seconds: z.number().nonnegative(),
});

export const workerStatusSchema = z.object({
  id: z.number().int().positive(),
  /** The worker's own name for itself, made inert (core's protocol `inert`: no control or bidi characters). */
  label: z.string(),
  address: z.string(),
  /** How its tasks and results travel (its control traffic is on its WebSocket either way). */
  transport: z.enum(['WebSocket', 'shared memory']),
  /** The engine it runs in, as its hello named it (made inert), or null from workers that do not say. */
  engine: z.string().nullable(),
  state: z.enum(['connected', 'gone']),
  slices: count,
  sliceMedianMs: z.number().nonnegative().nullable(),
  sliceP95Ms: z.number().nonnegative().nullable(),
  /** Samples per second over its answered slices, from sending each to its answer; null before the first. */
  samplesPerSecond: z.number().nonnegative().nullable(),
  bytesIn: count,
  bytesOut: count,
  lastHeard: z.number(),
  joinedAt: z.number(),
  leftAt: z.number().nullable(),
  /** Why it left: a reason code of the protocol, or CONNECTION_LOST. */
  reason: z.string().nullable(),
  /** Slices per second in each of the last few sampling periods, oldest first (the sparkline). */
  speed: z.array(z.number().nonnegative()),
});

/** GET /status: the whole state of a run (validate a response with `statusSchema.parse`). */
export const statusSchema = z.object({
  state: z.enum(RUN_STATES),
  /** Why the run is not training (waiting for workers, finished, the error), or null. */
  reason: z.string().nullable(),
  run: z.object({
    config: z.object({ name: z.string(), path: z.string(), values: z.record(z.string(), z.number()) }),
    dataset: z.string(),
    /** Fingerprint of the kernel's arithmetic (the handshake compares it; see core's kernelFingerprint). */
    kernel: z.string(),
    seed: z.number().int().nonnegative(),
    engine: z.string(),
    startedAt: z.number(),
  }),
  progress: z.object({
    /** 1-based epoch in progress (num_epoches once finished). */
    epoch: z.number().int().nonnegative(),
    epochs: z.number().int().positive(),
    step: count,
    steps: count,
    stepsPerSecond: z.number().nonnegative().nullable(),
    etaEpochSeconds: z.number().nonnegative().nullable(),
    etaRunSeconds: z.number().nonnegative().nullable(),
  }),
  lr: z.number().positive(),
  epochs: z.array(epochMetricsSchema),
  /** Mean training loss so far in the epoch in progress (the last epoch once finished), sampled: [step, loss] pairs. */
  trainLoss: z.array(z.tuple([count, z.number()])),
  workers: z.array(workerStatusSchema),
  counters: z.object({
    joins: count,
    leaves: byReason,
    reassignments: byReason,
    backups: count,
    evictions: byReason,
    refused: byReason,
    checkpoints: count,
    decays: count,
    steps: count,
  }),
  traffic: z.object({ framesIn: count, bytesIn: count, framesOut: count, bytesOut: count }),
  checkpoint: z.object({ path: z.string(), epoch: count, step: count, at: z.number() }).nullable(),
  /** Where the run's outputs were written, once it has finished. */
  outputs: z.record(z.string(), z.string()).nullable(),
  /** Pages served beside the dashboard once the run has finished (e.g. the model's draw page); href is a path on this server. */
  links: z.array(z.object({ label: z.string(), href: z.string().regex(/^\/[^/\\]/) })),
  /** Test-set confusion matrix of the final weights (rows: true digit), once finished. */
  confusion: z.array(z.array(count)).nullable(),
  /** Id of the newest event in the feed (see /events). */
  lastEventId: count,
});

/** A /status document. */
export type Status = z.infer<typeof statusSchema>;
export type WorkerStatus = z.infer<typeof workerStatusSchema>;

const EVENT_KINDS = ['state', 'join', 'leave', 'evict', 'refuse', 'reassign', 'backup', 'checkpoint', 'decay', 'epoch'] as const;

/** One entry of the event feed (GET /events, `event: feed`). */
export const runEventSchema = z.object({
  id: z.number().int().positive(),
  at: z.number(),
  kind: z.enum(EVENT_KINDS),
  /** A reason code, where the event has one. */
  reason: z.string().nullable(),
  /** A readable line; any peer text in it is inert. */
  text: z.string(),
});

export type RunEvent = z.infer<typeof runEventSchema>;
export type EventKind = (typeof EVENT_KINDS)[number];
