/**
 * GET /join/run: what a join page is told of the run (with the join secret, never the run's
 * token): enough to check its data and kernel before joining, and to show where the run is and how
 * this tab compares. Nothing about other workers but their number and median rate.
 */
import { z } from 'zod';

import { RUN_STATES } from '../monitor/status-schema.js';

const count = z.number().int().nonnegative();

export const joinSummarySchema = z.object({
  /** The config's name. */
  run: z.string(),
  state: z.enum(RUN_STATES),
  reason: z.string().nullable(),
  /** The wire protocol's version, the dataset and kernel fingerprints a worker's hello must match. */
  protocol: count,
  dataset: z.string(),
  kernel: z.string(),
  /** 1-based epoch in progress, of `epochs`; step in it, of `steps`. */
  epoch: count,
  epochs: count,
  step: count,
  steps: count,
  /** Workers connected now. */
  workers: count,
  /** The median of the connected workers' samples per second (as the coordinator times them), or null. */
  medianSamplesPerSecond: z.number().nonnegative().nullable(),
  /** The worker asked about (?worker=ID, the id its welcome gave), while it is connected; else null. */
  worker: z.object({ id: count, slices: count, samplesPerSecond: z.number().nonnegative().nullable() }).nullable(),
});

export type JoinSummary = z.infer<typeof joinSummarySchema>;
