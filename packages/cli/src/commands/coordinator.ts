/**
 * `mnist-lr coordinator`: train with workers that join over the network. The same training run
 * as `train` (training-run.ts), with the same outputs; only the engine differs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { checkListen } from '@mnist-lr/coordinator';
import { isLoopbackHost } from '@mnist-lr/watch';

import { remoteWorkersEngine } from '../engines/remote-workers.js';
import { badOption } from '../errors.js';
import { readOptionFile } from '../options.js';
import { displayPath } from '../outputs/format.js';
import type { RunPaths } from '../outputs/recorder.js';
import { readToken, TOKEN_ENV } from '../token.js';
import { resolveRunConfig, trainingRun, type RunOptions } from '../training-run.js';

export interface CoordinatorCommandOptions extends RunOptions {
  host: string;
  port: number;
  minWorkers: number;
  tokenFile?: string;
  /** Seconds to wait for workers at the start and whenever none is left. */
  workerWait: number;
  /** Seconds a worker has to return its slice. */
  stepTimeout: number;
  /** Backup workers: a slice unanswered after this many median slice times also goes to a spare worker; 0 off. */
  backupAfter: number;
  tlsCert?: string;
  tlsKey?: string;
  /** The fraction of slices computed twice and compared (--verify). Default 0. */
  verify?: number;
  /** Serve a join link for browser workers (--no-join: false). Default true. */
  join?: boolean;
}

export async function coordinatorCommand(options: CoordinatorCommandOptions, stdout: NodeJS.WriteStream = process.stdout): Promise<RunPaths> {
  // The config is read once, here; a taken port or a foreign address is reported at once after
  // it (a usage error the user fixes first) and before the data is loaded.
  const run = resolveRunConfig(options);
  await checkListen(options.host, options.port);
  let token = readToken(options.tokenFile);
  let tokenNote = options.tokenFile ? `token from ${displayPath(options.tokenFile)}` : `token from $${TOKEN_ENV}`;
  if (token === undefined) {
    if (!isLoopbackHost(options.host)) {
      throw badOption(`--host ${options.host} lets other machines connect, so a token is required: pass --token-file FILE or set ${TOKEN_ENV}`);
    }
    const file = join(resolve(options.out), 'coordinator.token');
    if (options.resume && existsSync(file)) {
      // The workers of the interrupted run hold this token and reconnect with it by themselves.
      token = readToken(file)!;
      tokenNote = `token reused from ${displayPath(file)}, as the interrupted run's workers hold it`;
    } else {
      // Loopback only: make a fresh token and leave it where local workers can read it.
      token = randomBytes(32).toString('hex');
      mkdirSync(resolve(options.out), { recursive: true });
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      tokenNote = `token written to ${displayPath(file)} (give it to workers with --token-file)`;
    }
  }
  const tls = tlsOptions(options);
  return trainingRun(run, options, (ui) =>
    remoteWorkersEngine({
      host: options.host,
      port: options.port,
      token: token!,
      tls,
      minWorkers: options.minWorkers,
      workerWaitMs: options.workerWait * 1000,
      stepTimeoutMs: options.stepTimeout * 1000,
      backupFactor: options.backupAfter,
      verify: options.verify ?? 0,
      join: options.join ?? true,
      dataDir: options.dataDir,
      log: (line) => ui.log(`coordinator: ${line}`),
      onWorkers: (count) => ui.workers(count),
      onListening: (c) => {
        ui.watching(c);
        ui.log(`coordinator: listening on ${c.url}; ${tokenNote}; start workers with: mnist-lr worker --connect ${c.url}`);
        ui.log(`dashboard: ${c.dashboardUrl}  (also /status, /metrics, /healthz, /readyz${isLoopbackHost(options.host) ? '' : '; beyond loopback all but the last two need the token'})`);
        if (c.joinUrl) ui.log(`join from a browser: ${c.joinUrl}  (its secret lets a tab compute, nothing more: share it with whoever may compute)`);
      },
    }),
    stdout,
  );
}

function tlsOptions(options: CoordinatorCommandOptions): { cert: Buffer; key: Buffer } | undefined {
  if (!options.tlsCert && !options.tlsKey) return undefined;
  if (!options.tlsCert || !options.tlsKey) throw badOption('--tls-cert and --tls-key go together: pass both PEM files');
  return { cert: readOptionFile('--tls-cert', options.tlsCert), key: readOptionFile('--tls-key', options.tlsKey) };
}
