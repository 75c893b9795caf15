/**
 * Ctrl-C (SIGINT) and SIGTERM during a run: stop between two steps, so that the state is
 * consistent and can be checkpointed, instead of dying wherever the signal lands.
 *
 * A signal handler runs only when the event loop turns, and the in-process loop is synchronous
 * within an epoch (a step awaits nothing). So `yieldIfDue()` is called after every step and,
 * every `everyMs`, returns a promise that lets the loop turn once: the handler then runs, and the
 * loop stops before its next step. A turn costs microseconds; ten a second cost nothing
 * measurable. A second signal ends the process at once, the default, for a run that will not stop.
 */
import { MnistLrError } from '@mnist-lr/core/engine';

import { invocation } from './outputs/format.js';

export interface Interrupt {
  /** Aborted by the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The signal's name, once one arrived. */
  readonly received: NodeJS.Signals | undefined;
  /** After a step: a promise to await when the event loop is due a turn, else undefined. */
  yieldIfDue(): Promise<void> | undefined;
  /** Removes the handlers. */
  dispose(): void;
}

export function watchInterrupt(options: { everyMs?: number; clock?: () => number } = {}): Interrupt {
  const everyMs = options.everyMs ?? 100;
  const clock = options.clock ?? (() => performance.now());
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  let last = clock();
  const onSignal = (sig: NodeJS.Signals): void => {
    received = sig;
    dispose();
    controller.abort();
  };
  const dispose = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    yieldIfDue() {
      const now = clock();
      if (now - last < everyMs) return undefined;
      last = now;
      return new Promise((resolve) => setImmediate(resolve));
    },
    dispose,
  };
}

/** The command line again, with --resume: what continues an interrupted run. */
export function resumeCommand(argv: readonly string[] = process.argv.slice(2)): string {
  const args = argv.includes('--resume') ? [...argv] : [...argv, '--resume'];
  const quoted = args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return `${invocation()} ${quoted.join(' ')}`;
}

/**
 * The INTERRUPTED error of a run stopped at `where` ("epoch 2/15, step 300/6000"), or before its
 * first step (undefined); `resumable` says whether a checkpoint holds the run.
 */
export function interruptedError(sig: NodeJS.Signals, where: string | undefined, resumable: boolean): MnistLrError {
  const at = where ? ` at ${where}` : ' before its first step';
  const next = resumable ? `its checkpoint holds that point; continue with: ${resumeCommand()}` : 'nothing was checkpointed; run the command again to start afresh';
  return new MnistLrError('INTERRUPTED', `interrupted by ${sig}${at}; ${next}`);
}
