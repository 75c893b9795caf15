/**
 * The error boundary of the command line: how a failure reaches the user and the shell.
 *
 * - A coded MnistLrError prints one line, `error [CODE]: message`, and no stack: the message
 *   already says what went wrong and what to do next.
 * - Anything else is a bug, not a user mistake: it prints its stack so it can be reported.
 *
 * Exit codes: 0 success, 1 a failure while working (data, training, writing outputs, a bug),
 * 2 a usage error: a bad option, or a file named on the command line (config, model) that
 * cannot be used (a taken --port counts: choose another), 130 interrupted by Ctrl-C or SIGTERM
 * (its checkpoint written). Scripts can tell "you called it wrong" from "it broke".
 */
import { MnistLrError, isMnistLrError, type ErrorCode } from '@mnist-lr/core/engine';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** Stopped by Ctrl-C or SIGTERM (128 + SIGINT's number, as shells report it). */
  interrupted: 130,
} as const;

/** Codes that always mean the command line or its config was wrong. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BAD_OPTION',
  'CONFIG_BAD_JSON',
  'CONFIG_UNKNOWN_KEY',
  'CONFIG_BAD_TYPE',
  'CONFIG_OUT_OF_RANGE',
  'CONFIG_MISSING_KEY',
  'PORT_IN_USE',
  'ADDRESS_UNAVAILABLE',
]);

/** Errors raised while reading what the command line names (see `asUsage`). */
const usageErrors = new WeakSet<MnistLrError>();

/** A BAD_OPTION error: a command-line option has a bad value. */
export function badOption(message: string): MnistLrError {
  return new MnistLrError('BAD_OPTION', message);
}

/**
 * Runs `fn`, marking any coded error it throws as a usage error (exit code 2): for reading the
 * files the user named on the command line, whose FILE_UNREADABLE or MODEL_BAD_FILE means
 * "you pointed at the wrong file", not "the run broke".
 */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isMnistLrError(e)) markUsage(e);
    throw e;
  }
}

/** Marks `e` as a usage error (exit code 2) and returns it, to be thrown. */
export function markUsage(e: MnistLrError): MnistLrError {
  usageErrors.add(e);
  return e;
}

export function exitCodeOf(e: unknown): number {
  if (isMnistLrError(e) && e.code === 'INTERRUPTED') return EXIT.interrupted;
  if (isMnistLrError(e)) return USAGE_CODES.has(e.code) || usageErrors.has(e) ? EXIT.usage : EXIT.failure;
  return EXIT.failure;
}

/** What the user sees: one line for a coded error, the stack for anything unexpected. */
export function formatError(e: unknown): string {
  // One line even when a message quotes multi-line input (a JSON parser's excerpt, say).
  if (isMnistLrError(e)) return `error [${e.code}]: ${e.message.replace(/\s*\n\s*/g, ' ')}`;
  if (e instanceof Error) {
    return `unexpected error (a bug; please report it with the lines below):\n${e.stack ?? `${e.name}: ${e.message}`}`;
  }
  return `unexpected error (a bug; please report it): ${String(e)}`;
}

/** Prints `e` to `stderr` and returns the exit code the process should end with. */
export function reportError(e: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  stderr.write(`${formatError(e)}\n`);
  return exitCodeOf(e);
}
