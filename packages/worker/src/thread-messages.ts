import type { WorkerOutcome } from './worker.js';

/**
 * What a worker thread (thread.ts) posts to the thread that started it: a line for each event
 * worth telling a human, and, when it stops, why. A refusal (a wrong token, protocol, dataset or
 * kernel) is reported only in the `exit` message, so a parent that does not listen never sees it.
 */
export type ThreadMessage = { type: 'log'; line: string } | { type: 'exit'; outcome: WorkerOutcome };
