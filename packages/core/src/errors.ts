/**
 * One error class for everything a user can get wrong or a peer can break.
 *
 * `code` is stable (tests, scripts and the wire protocol match on it); `message` says what
 * happened and what to do next, naming the file, key or peer involved.
 */
export class MnistLrError extends Error {
  override readonly name = 'MnistLrError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Every coded error of the project, with what it means. */
export const ERROR_CODES = {
  /** A file could not be opened or read (missing, permissions). */
  FILE_UNREADABLE: 'FILE_UNREADABLE',
  /** An IDX file's magic number is not that of an IDX file of unsigned bytes. */
  IDX_BAD_MAGIC: 'IDX_BAD_MAGIC',
  /** An IDX file is shorter or longer than its header says. */
  IDX_BAD_LENGTH: 'IDX_BAD_LENGTH',
  /** An IDX file has the wrong number or size of dimensions for what it should hold. */
  IDX_BAD_SHAPE: 'IDX_BAD_SHAPE',
  /** A gzipped IDX file could not be inflated. */
  IDX_BAD_GZIP: 'IDX_BAD_GZIP',
  /** A label is outside 0..9 or the image and label files disagree on the count. */
  MNIST_INCONSISTENT: 'MNIST_INCONSISTENT',
  /** A dataset directory lacks one of the four MNIST files. */
  MNIST_MISSING_FILE: 'MNIST_MISSING_FILE',
  /** A config file is not valid JSON. */
  CONFIG_BAD_JSON: 'CONFIG_BAD_JSON',
  /** A config file has a key that is not known. */
  CONFIG_UNKNOWN_KEY: 'CONFIG_UNKNOWN_KEY',
  /** A config value has the wrong type. */
  CONFIG_BAD_TYPE: 'CONFIG_BAD_TYPE',
  /** A config value is outside its allowed range. */
  CONFIG_OUT_OF_RANGE: 'CONFIG_OUT_OF_RANGE',
  /** A config lacks a required key. */
  CONFIG_MISSING_KEY: 'CONFIG_MISSING_KEY',
  /** A model file is not a model file of a format version this build reads. */
  MODEL_BAD_FILE: 'MODEL_BAD_FILE',
  /** A model or checkpoint was made from other data than the data loaded now. */
  DATASET_MISMATCH: 'DATASET_MISMATCH',
  /** An output file (log, metrics, plot, model, checkpoint) could not be written. */
  OUTPUT_UNWRITABLE: 'OUTPUT_UNWRITABLE',
  /** A command-line option has a bad value. */
  BAD_OPTION: 'BAD_OPTION',
  /** Training produced a non-finite number (learning rate too high?). */
  NON_FINITE: 'NON_FINITE',
  /** A checkpoint is corrupt or does not match the run it should resume. */
  CHECKPOINT_BAD: 'CHECKPOINT_BAD',
  /** A checkpoint belongs to another config or dataset. */
  CHECKPOINT_MISMATCH: 'CHECKPOINT_MISMATCH',
  /** No worker was available within the allowed wait. */
  NO_WORKERS: 'NO_WORKERS',
  /** A network peer broke the protocol or could not be reached. */
  PEER_ERROR: 'PEER_ERROR',
  /** The port to listen on is taken by another program. */
  PORT_IN_USE: 'PORT_IN_USE',
  /** The address to listen on is not one of this machine's, or may not be used (a port below 1024). */
  ADDRESS_UNAVAILABLE: 'ADDRESS_UNAVAILABLE',
  /** The run was interrupted (Ctrl-C, SIGTERM); its checkpoint holds where it stopped. */
  INTERRUPTED: 'INTERRUPTED',
  /** An image cannot be used: not a PNG, JPEG or IDX file, damaged, too large, or of the wrong shape. */
  IMAGE_BAD: 'IMAGE_BAD',
  /** An image holds no digit: nothing stands out from its background. */
  IMAGE_BLANK: 'IMAGE_BLANK',
  /** An HTTP request is malformed: a body that is not what the route reads, a bad header. */
  REQUEST_BAD: 'REQUEST_BAD',
  /** An HTTP request body is larger than the server accepts. */
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  /** An HTTP request did not arrive whole within the server's time limit. */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** An HTTP request from beyond loopback without the token (or a session opened with it). */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** No such HTTP route, or not with that method. */
  NOT_FOUND: 'NOT_FOUND',
} as const;

/** The code of an MnistLrError: one of ERROR_CODES's keys, stable across versions. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `e` is a coded MnistLrError (a user's or a peer's mistake, with a message that says what to do). */
export function isMnistLrError(e: unknown): e is MnistLrError {
  return e instanceof MnistLrError;
}

/** The coded error for a failed write of `path`: what failed and what to check. */
export function unwritable(path: string, e: unknown): MnistLrError {
  const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new MnistLrError('OUTPUT_UNWRITABLE', `cannot write ${path} (${why}); check free disk space and permissions, or choose another --out`, { cause: e });
}
