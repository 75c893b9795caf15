/**
 * Why a connection was refused or closed: one table, shared by both ends. Each reason has a
 * WebSocket close code (4000–4999 are the application's) and text a worker prints; the coordinator
 * logs the same code. `fatal` reasons stop a worker (retrying cannot help); others let it reconnect.
 */
export const REASONS = {
  /** The token in the upgrade request did not match (answered as HTTP 401 before any WebSocket). */
  BAD_TOKEN: { close: 4401, fatal: true, text: 'the coordinator refused the token; pass the one it was started with (--token-file or MNIST_LR_TOKEN)' },
  /**
   * The upgrade came from a page of another origin than the coordinator's own (its Origin header
   * names another site): answered as HTTP 403 before any WebSocket, so that a site open in the same
   * browser cannot use a join link's connection. Open the join link itself.
   */
  BAD_ORIGIN: { close: 4403, fatal: true, text: "the coordinator refused a connection from another site's page; open the join link the coordinator printed" },
  /**
   * The join secret offered by a browser worker (or with a data request of the join page) is not
   * this run's: a link from an earlier run, or cut short. Answered as HTTP 401.
   */
  BAD_JOIN_SECRET: { close: 4402, fatal: true, text: "the join link's secret is not this run's; ask for the link the coordinator printed (it changes with every start)" },
  /** The worker speaks another protocol version. */
  PROTOCOL_MISMATCH: { close: 4002, fatal: true, text: 'the worker and coordinator speak different protocol versions; install the same mnist-lr version on both' },
  /** The worker's MNIST files differ from the coordinator's (dataset fingerprints differ). */
  DATASET_MISMATCH: { close: 4003, fatal: true, text: "the worker's MNIST files differ from the coordinator's; point --data-dir at the same four files" },
  /** The worker's kernel arithmetic differs (results would not be bit-identical). */
  KERNEL_MISMATCH: { close: 4004, fatal: true, text: 'the worker computes with another kernel; install the same mnist-lr version on both' },
  /** A message could not be decoded or failed validation. */
  MALFORMED_MESSAGE: { close: 4005, fatal: false, text: 'a malformed message was received; the connection was closed' },
  /** A well-formed message arrived at the wrong time (e.g. a result for a task never given). */
  UNEXPECTED_MESSAGE: { close: 4006, fatal: false, text: 'a message arrived that the protocol does not allow at this point' },
  /** The peer did not complete the handshake in time. */
  HANDSHAKE_TIMEOUT: { close: 4007, fatal: false, text: 'the handshake did not complete in time' },
  /** The worker did not return its slice before the step deadline; the slice went to another worker. */
  STEP_DEADLINE: { close: 4008, fatal: false, text: 'the worker missed the step deadline; its slice was given to another worker' },
  /** The worker answered neither data nor two heartbeats in a row. */
  HEARTBEAT_TIMEOUT: { close: 4011, fatal: false, text: 'the worker stopped answering heartbeats' },
  /** The worker returned non-finite or impossible sums; its slice was recomputed elsewhere. */
  BAD_RESULT: { close: 4009, fatal: false, text: 'the worker returned invalid sums; its slice was recomputed elsewhere' },
  /** The worker does not trust the coordinator's TLS certificate (seen by the worker only). */
  TLS_UNTRUSTED: { close: 4012, fatal: true, text: "the coordinator's TLS certificate is not trusted; pass --ca with the CA certificate that signed it" },
  /** The coordinator's host name does not resolve (seen by the worker only): retrying will not make it. */
  UNKNOWN_HOST: { close: 4020, fatal: true, text: "the coordinator's host name does not resolve; check the host in --connect" },
  /**
   * Too many connections are waiting to authenticate, in all or from this address (answered as
   * HTTP 503 before any WebSocket); the worker retries later.
   */
  CONNECTION_LIMIT: { close: 4021, fatal: false, text: 'the coordinator has too many connections waiting to authenticate; retrying later' },
  /**
   * The worker's sums for a slice differed from another computation of the same slice, and a
   * third (the coordinator's own) confirmed the other: it is evicted and refused for the rest of
   * the run. Exact sums make any difference proof of a fault (--verify).
   */
  RESULT_MISMATCH: { close: 4022, fatal: true, text: "the worker's sums differed from a recomputation of the same slice; it is refused for the rest of the run (check its hardware and its mnist-lr build)" },
  /** Training finished normally. */
  RUN_COMPLETE: { close: 4000, fatal: true, text: 'training is complete' },
  /**
   * The worker is leaving because it was told to stop (SIGTERM, as Kubernetes sends when it scales
   * a Deployment down or drains a node; Ctrl-C). Sent by the worker only, after the answer of any
   * slice it was computing: the coordinator gives the slices it still held to other workers at
   * once instead of waiting for a step deadline.
   */
  WORKER_SHUTDOWN: { close: 4013, fatal: false, text: 'the worker was stopped and left; its slices went to other workers' },
  /** The coordinator is shutting down (interrupted or failed). */
  COORDINATOR_SHUTDOWN: { close: 4010, fatal: false, text: 'the coordinator is shutting down' },
  /** A frame was larger than the protocol allows (ws closes with 1009 itself). */
  OVERSIZED_MESSAGE: { close: 1009, fatal: false, text: 'a message exceeded the size limit' },
} as const;

export type Reason = keyof typeof REASONS;

const byClose = new Map<number, Reason>(Object.entries(REASONS).map(([k, v]) => [v.close, k as Reason]));

/** The reason behind a WebSocket close code, if it is one of ours. */
export function reasonOfClose(code: number): Reason | undefined {
  return byClose.get(code);
}

/** Header carrying the reason on an HTTP refusal of the upgrade (the 401 for a bad token). */
export const REASON_HEADER = 'x-mnist-lr-reason';

const utf8 = new TextEncoder();

/**
 * `text` cut to the 123 UTF-8 bytes a WebSocket close frame allows (ws throws beyond that), without
 * splitting a character. Details quote peer input, which may be anything.
 */
export function closeText(text: string): string {
  if (utf8.encode(text).length <= 123) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = utf8.encode(ch).length;
    if (bytes + n > 120) break;
    out += ch;
    bytes += n;
  }
  return `${out}…`; // 120 bytes at most, plus the 3 of the ellipsis
}
