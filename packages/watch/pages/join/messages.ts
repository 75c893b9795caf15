/** What the join page and its Web Worker say to each other (postMessage), in both directions. */

/** Page → worker. */
export type ToWorker = { type: 'start'; secret: string } | { type: 'leave' };

/** Where the worker is, as the page shows it. */
export type Phase = 'preparing' | 'fetching' | 'checking' | 'connecting' | 'computing' | 'ended';

/** Worker → page. */
export type FromWorker =
  | { type: 'phase'; phase: Phase; text: string }
  /** Bytes of the dataset downloaded so far, of `total` (null: unknown). */
  | { type: 'progress'; loaded: number; total: number | null }
  | { type: 'engine'; engine: string; kernel: 'WebAssembly SIMD' | 'JS'; fingerprint: string }
  /** Where the dataset came from: the coordinator (`bytes` downloaded, gzipped) or this browser's cache. */
  | { type: 'data'; from: 'network' | 'cache'; bytes: number; seconds: number }
  | { type: 'joined'; workerId: number }
  /** A slice computed: totals so far, and the epoch (0-based) and weights version it was for. */
  | { type: 'slice'; slices: number; samples: number; computeMs: number; epoch: number | null; version: number }
  /** The tab is no longer a worker: why (a reason code, or null), and whether joining again could help. */
  | { type: 'ended'; reason: string | null; text: string; retry: boolean };
