/**
 * The two probes a kubelet (or any supervisor) asks without credentials, even beyond loopback:
 *
 *   /healthz  200 "ok" while the process answers at all (liveness);
 *   /readyz   200 while the run accepts workers: waiting for them or training (readiness: a
 *             coordinator waiting for its workers must be ready, or its Service would hide it
 *             from them); 503 once it has finished or failed.
 *
 * A probe carries no secret, so beyond loopback the answer tells readiness and nothing else
 * ("ready" / "not ready"); the state and its reason ("waiting: waiting for 3 workers (1 joined)")
 * are shown on loopback, and to token holders in /status. No token is checked here: a probe that
 * answered differently to a right token would let anyone test guesses without the delays that
 * slow down wrong tokens elsewhere.
 */
import type { RunState } from '../monitor/status-schema.js';

/** States in which a coordinator accepts workers. */
const READY: ReadonlySet<RunState> = new Set(['waiting', 'training']);

export interface ProbeAnswer {
  status: number;
  body: string;
}

/**
 * The answer to `path` if it is a probe, else undefined. `detailed`: the state and its reason
 * may be shown (the server is reachable from this machine only).
 */
export function probe(path: string, run: { state: RunState; reason: string | null }, detailed: boolean): ProbeAnswer | undefined {
  if (path === '/healthz') return { status: 200, body: 'ok' };
  if (path !== '/readyz') return undefined;
  const ready = READY.has(run.state);
  const body = detailed ? `${run.state}${run.reason ? `: ${run.reason}` : ''}` : ready ? 'ready' : 'not ready';
  return { status: ready ? 200 : 503, body };
}
