/** `mnist-lr worker`: join a coordinator and compute slices until training completes. */
import { MnistLrError } from '@mnist-lr/core';
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
}

export async function workerCommand(options: WorkerCommandOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<void> {
  const url = coordinatorUrl(options.connect, '--connect');
  const token = readToken(options.tokenFile);
  if (token === undefined) throw badOption(`no token: pass --token-file FILE or set ${TOKEN_ENV} to the coordinator's token`);
  const ca = options.ca === undefined ? undefined : readOptionFile('--ca', options.ca);
  const { data } = loadData(options.dataDir);
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const outcome = await runWorker({
    url,
    token,
    data,
    ca,
    label: options.label,
    signal: abort.signal,
    log: (line) => {
      if (!options.quiet) stdout.write(`worker: ${line}\n`);
    },
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  if (outcome.reason === 'RUN_COMPLETE' || outcome.reason === 'ABORTED') {
    if (!options.quiet) stdout.write(`worker: ${outcome.tasks} slices computed\n`);
    return;
  }
  throw new MnistLrError('PEER_ERROR', outcome.message);
}
