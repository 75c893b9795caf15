/** `mnist-lr worker`: join a coordinator and compute slices until training completes. */
import { MnistLrError } from '@mnist-lr/core/engine';
import { coordinatorUrl, runWorker } from '@mnist-lr/worker';

import { loadData } from '../data.js';
import { badOption } from '../errors.js';
import { readOptionFile } from '../options.js';
import { readToken, TOKEN_ENV } from '../token.js';

export interface WorkerCommandOptions {
  connect: string;
  tokenFile?: string;
  dataDir?: string;
  label?: string;
  /** PEM CA file to verify a wss:// coordinator against. */
  ca?: string;
  /** Print only failures. */
  quiet?: boolean;
  /**
   * Seconds to keep trying to reach a coordinator before giving up (UNREACHABLE, exit 1); the
   * budget starts afresh after every connection that did work. Default: runWorker's (60 s).
   */
  retryFor?: number;
}

export async function workerCommand(options: WorkerCommandOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<void> {
  const url = coordinatorUrl(options.connect, '--connect');
  const token = readToken(options.tokenFile);
  if (token === undefined) throw badOption(`no token: pass --token-file FILE or set ${TOKEN_ENV} to the coordinator's token`);
  const ca = options.ca === undefined ? undefined : readOptionFile('--ca', options.ca);
  const { data } = loadData(options.dataDir);
  // SIGTERM (Kubernetes scaling a Deployment down, draining a node) and Ctrl-C: leave at once
  // with WORKER_SHUTDOWN, so the coordinator gives this worker's slice to another right away.
  const abort = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (sig: NodeJS.Signals): void => {
    stoppedBy = sig;
    abort.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const outcome = await runWorker({
    url,
    token,
    data,
    ca,
    label: options.label,
    signal: abort.signal,
    retry: options.retryFor === undefined ? undefined : retryBudget(options.retryFor),
    log: (line) => {
      if (!options.quiet) stdout.write(`worker: ${line}\n`);
    },
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (outcome.reason === 'ABORTED') {
    if (!options.quiet) stdout.write(`worker: stopped by ${stoppedBy ?? 'a signal'}; left the run after ${outcome.tasks} slices\n`);
    return;
  }
  if (outcome.reason === 'RUN_COMPLETE') {
    if (!options.quiet) stdout.write(`worker: ${outcome.tasks} slices computed\n`);
    return;
  }
  throw new MnistLrError('PEER_ERROR', outcome.message);
}

/**
 * A retry policy bounded by time: the attempts allow two a second (the backoff's average wait
 * once grown is a second), so the time budget is the one that ends the wait.
 */
function retryBudget(seconds: number): { totalMs: number; attempts: number } {
  return { totalMs: seconds * 1000, attempts: Math.max(60, seconds * 2) };
}
