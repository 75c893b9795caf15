/** The states of a run, as /status, /metrics and the page name them. No schema library here: /metrics reads it. */
export const RUN_STATES = ['waiting', 'training', 'finished', 'failed'] as const;

export type RunState = (typeof RUN_STATES)[number];
