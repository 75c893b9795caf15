import WebSocket from 'ws';
import { closeText, inert, DecodeBuffers, decodeCoordinatorMessage, encodeMessage, maxTaskBytes, MAX_SLICE, ProtocolError, REASON_HEADER, REASONS, reasonOfClose, type CoordinatorMessage, type Reason, type WorkerMessage } from '@mnist-lr/core/protocol';

/** OpenSSL's verdicts on a certificate it does not trust (Node's `err.code`). */
const TLS_VERIFY_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** How one connection ended. */
export interface ConnectionEnd {
  /** Our coded reason, when the close code or HTTP refusal carried one. */
  reason: Reason | undefined;
  /** True when the connection reached the open state (the coordinator was reached). */
  opened: boolean;
  /** Close code, or HTTP status of a refused upgrade. */
  code: number;
  detail: string;
}

export interface ConnectionOptions {
  url: string;
  token: string;
  /** PEM of a CA to verify a wss:// coordinator against. */
  ca?: string | Buffer;
  /** Close the connection when nothing (not even a ping) arrived for this long. Default 30000 ms. */
  idleTimeoutMs: number;
  /** Give up opening after this long. Default 10000 ms. */
  openTimeoutMs: number;
  /**
   * Aborted when the worker is told to stop (SIGTERM): the connection closes at once with
   * WORKER_SHUTDOWN, after the answer of a slice being computed (computing is synchronous, so an
   * abort is seen between two slices), and tasks that arrive after it are not computed.
   */
  signal?: AbortSignal;
}

/** How long a leaving worker waits for the coordinator to acknowledge its close before cutting the connection. */
const LEAVE_GRACE_MS = 1000;

/**
 * One WebSocket connection to a coordinator: token in the upgrade request, binary frames,
 * compression off, a frame limit sized to the largest task, and an idle watchdog so a silent
 * coordinator cannot hold a worker forever. Resolves when the connection is over. The weights of
 * a `weights` message are decoded into storage the connection reuses: they are valid until the
 * next `weights` message.
 */
export function connectOnce(
  options: ConnectionOptions,
  onOpen: (send: (m: WorkerMessage) => void) => void,
  onMessage: (m: CoordinatorMessage, send: (m: WorkerMessage) => void, close: (reason: Reason, detail?: string) => void) => void,
): Promise<ConnectionEnd> {
  return new Promise((resolve) => {
    if (options.signal?.aborted) return resolve({ reason: 'WORKER_SHUTDOWN', opened: false, code: 0, detail: 'stopped before connecting' });
    let opened = false;
    let settled = false;
    let leaving = false;
    let refused: ConnectionEnd | undefined;
    const ws = new WebSocket(options.url, {
      headers: { authorization: `Bearer ${options.token}` },
      perMessageDeflate: false,
      maxPayload: maxTaskBytes(MAX_SLICE),
      handshakeTimeout: options.openTimeoutMs,
      ca: options.ca,
      // Client-to-server masking (RFC 6455 §10.3) protects intermediaries from frames crafted by
      // scripts in a browser; a worker is not a browser. An all-zero mask lets ws skip XOR-ing
      // every 63 KB result on both ends, which was a tenth of the coordinator's time per step.
      generateMask: (mask: Buffer) => void mask.fill(0),
    });
    ws.binaryType = 'nodebuffer';
    const buffers = new DecodeBuffers();
    let idle: NodeJS.Timeout | undefined;
    const watchdog = (): void => {
      if (idle === undefined) idle = setTimeout(() => ws.terminate(), options.idleTimeoutMs);
      else idle.refresh();
    };
    const send = (m: WorkerMessage): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(m), { binary: true });
    };
    const close = (reason: Reason, detail?: string): void => {
      ws.close(REASONS[reason].close, closeText(detail ?? REASONS[reason].text));
    };
    const finish = (end: ConnectionEnd): void => {
      if (settled) return;
      settled = true;
      clearTimeout(idle);
      options.signal?.removeEventListener('abort', leave);
      resolve(end);
    };
    // Told to stop: leave with a coded reason, so the coordinator hands our slices to others now
    // rather than at a step deadline. A coordinator that does not acknowledge is cut off.
    const leave = (): void => {
      leaving = true;
      if (ws.readyState !== WebSocket.OPEN) return ws.terminate();
      close('WORKER_SHUTDOWN');
      setTimeout(() => ws.terminate(), LEAVE_GRACE_MS).unref();
    };
    options.signal?.addEventListener('abort', leave, { once: true });

    ws.on('unexpected-response', (_req, res) => {
      const header = res.headers[REASON_HEADER];
      const reason = typeof header === 'string' && header in REASONS ? (header as Reason) : undefined;
      refused = { reason, opened: false, code: res.statusCode ?? 0, detail: `HTTP ${res.statusCode} ${inert(res.statusMessage ?? '')}`.trim() };
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      opened = true;
      watchdog();
      onOpen(send);
    });
    ws.on('ping', watchdog);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (leaving) return;
      watchdog();
      if (!isBinary) return close('MALFORMED_MESSAGE', 'text frames are not part of the protocol');
      let m: CoordinatorMessage;
      try {
        m = decodeCoordinatorMessage(data, buffers);
      } catch (e) {
        if (e instanceof ProtocolError) return close(e.reason, e.message);
        throw e;
      }
      onMessage(m, send, close);
    });
    let lastError = '';
    ws.on('error', (e: NodeJS.ErrnoException) => {
      lastError = e.code ?? e.message;
      // 'close' follows every 'error'; the end is reported there. A certificate the worker cannot
      // verify will not verify on the next try either: that ends the worker.
      if (!opened && e.code !== undefined && TLS_VERIFY_ERRORS.has(e.code)) {
        refused = { reason: 'TLS_UNTRUSTED', opened: false, code: 0, detail: `${e.code}: ${e.message}` };
      }
      // ENOTFOUND is the name server's final answer (no such name); EAI_AGAIN, a temporary
      // failure, is retried like any other.
      if (!opened && e.code === 'ENOTFOUND') {
        refused = { reason: 'UNKNOWN_HOST', opened: false, code: 0, detail: `${e.code}: ${e.message}` };
      }
    });
    ws.on('close', (code: number, reason: Buffer) => {
      finish(refused ?? { reason: reasonOfClose(code), opened, code, detail: inert(reason.toString()) || lastError || `close code ${code}` });
    });
  });
}
