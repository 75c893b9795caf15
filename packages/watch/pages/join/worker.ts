/**
 * The join page's Web Worker: this tab as a worker of the run, off the page's main thread. It
 * does what `mnist-lr worker` does, with core's browser entry: the kernel (WebAssembly SIMD,
 * compiled asynchronously, or JS), the dataset (from this browser's cache or the coordinator,
 * checked against the run's fingerprint before joining), and the same protocol and hello over a
 * WebSocket that offers the join secret as a subprotocol value. It can do no more than any worker:
 * compute the slices it is given and answer them.
 */
import {
  closeText,
  decodeCoordinatorMessage,
  DecodeBuffers,
  encodeMessage,
  engineName,
  joinProtocols,
  JOIN_HEADER,
  LocalGradientSource,
  prepareEngine,
  PROTOCOL_VERSION,
  ProtocolError,
  reasonOfClose,
  REASONS,
  rowList,
  copyWeights,
  trainingDataFromStream,
  zeroWeights,
  type CoordinatorMessage,
  type Reason,
  type TrainingData,
  type WorkerMessage,
} from '@mnist-lr/core/browser';

import type { JoinSummary } from '../../src/join/join-schema.js';
import { cachedDataset, forgetDataset, keepDataset } from './dataset-cache.js';
import type { FromWorker, ToWorker } from './messages.js';

const post = (m: FromWorker): void => postMessage(m);

/** A failure that ends the tab's part in the run, with the reason code the page shows. */
class Ended extends Error {
  constructor(
    readonly reason: Reason | null,
    message: string,
    readonly retry = false,
  ) {
    super(message);
  }
}

let secret = '';
let leaving = false;
let socket: WebSocket | null = null;
/** The weights version the replica holds on this connection (-1: none yet). */
let held = -1;

addEventListener('message', (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  if (m.type === 'start' && secret === '') {
    secret = m.secret;
    run().catch((err: unknown) => {
      if (err instanceof Ended) post({ type: 'ended', reason: err.reason, text: err.message, retry: err.retry });
      else post({ type: 'ended', reason: null, text: `this tab failed: ${err instanceof Error ? err.message : String(err)}`, retry: true });
    });
  }
  if (m.type === 'leave') leave();
});

/** Leaves at once with WORKER_SHUTDOWN: the coordinator gives this tab's slices to others now. */
function leave(): void {
  leaving = true;
  if (socket !== null && socket.readyState <= WebSocket.OPEN) socket.close(REASONS.WORKER_SHUTDOWN.close, closeText('the tab left'));
  else post({ type: 'ended', reason: 'WORKER_SHUTDOWN', text: 'you left', retry: true });
}

/** Throws once the tab has left (the Leave button, or the tab closing) while it was getting ready. */
function stillHere(): void {
  if (leaving) throw new Ended('WORKER_SHUTDOWN', 'you left before joining', true);
}

/** A route of the join page's, with the secret; 401 is the link's fault, anything else the run's. */
async function get(path: string): Promise<Response> {
  const response = await fetch(path, { headers: { [JOIN_HEADER]: secret }, cache: 'no-store' });
  if (response.status === 401) throw new Ended('BAD_JOIN_SECRET', REASONS.BAD_JOIN_SECRET.text);
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new Ended(null, `the coordinator answered ${response.status}${body?.error?.message ? `: ${body.error.message}` : ''}`, true);
  }
  return response;
}

async function run(): Promise<void> {
  post({ type: 'phase', phase: 'preparing', text: 'compiling the kernel' });
  await prepareEngine();
  const summary = (await (await get('run')).json()) as JoinSummary;
  if (summary.protocol !== PROTOCOL_VERSION) throw new Ended('PROTOCOL_MISMATCH', `${REASONS.PROTOCOL_MISMATCH.text} (page ${PROTOCOL_VERSION}, coordinator ${summary.protocol}): reload the page`);
  if (summary.state === 'finished' || summary.state === 'failed') throw new Ended('RUN_COMPLETE', `the run has ${summary.state}; nothing left to compute`);
  const data = await dataset(summary.dataset);
  stillHere();
  const source = new LocalGradientSource(data.train);
  const kernel = source.fingerprint();
  post({ type: 'engine', engine: engineName(), kernel: source.kernel.name === 'wasm' ? 'WebAssembly SIMD' : 'JS', fingerprint: kernel });
  if (kernel !== summary.kernel) throw new Ended('KERNEL_MISMATCH', `${REASONS.KERNEL_MISMATCH.text}: this browser's kernel computes ${kernel}, the run's ${summary.kernel}`);
  await compute(source, data, kernel);
}

/**
 * The run's dataset: from this browser's cache, else downloaded; either way inflated and hashed
 * here, and refused unless it is the run's (`fingerprint`). A downloaded one is kept once checked.
 */
async function dataset(fingerprint: string): Promise<TrainingData> {
  const started = performance.now();
  let from: 'network' | 'cache' = 'cache';
  let kept = await cachedDataset(fingerprint);
  if (kept === null) {
    from = 'network';
    post({ type: 'phase', phase: 'fetching', text: 'downloading the dataset' });
    const response = await get('dataset');
    const length = Number(response.headers.get('content-length'));
    const bytes = Number(response.headers.get('x-mnist-lr-dataset-bytes'));
    kept = { fingerprint, gzip: await download(response, Number.isFinite(length) && length > 0 ? length : null), bytes };
  }
  post({ type: 'phase', phase: 'checking', text: 'checking the dataset against the run' });
  let data: TrainingData;
  try {
    data = trainingDataFromStream(await inflate(kept.gzip, kept.bytes), "the coordinator's dataset");
  } catch (e) {
    await forgetDataset(fingerprint);
    throw new Ended('DATASET_MISMATCH', `${REASONS.DATASET_MISMATCH.text}: ${e instanceof Error ? e.message : String(e)}`, true);
  }
  if (data.fingerprint !== fingerprint) {
    await forgetDataset(fingerprint);
    throw new Ended('DATASET_MISMATCH', `the dataset ${from === 'cache' ? 'kept in this browser' : 'downloaded'} hashes to ${data.fingerprint.slice(0, 12)}…, not the run's ${fingerprint.slice(0, 12)}…; reload to download it again`, true);
  }
  if (from === 'network') await keepDataset(kept);
  post({ type: 'data', from, bytes: kept.gzip.byteLength, seconds: (performance.now() - started) / 1000 });
  return data;
}

/** The body of `response`, reporting progress to the page. */
async function download(response: Response, total: number | null): Promise<ArrayBuffer> {
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let told = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    if (loaded - told > 256 * 1024) {
      told = loaded;
      post({ type: 'progress', loaded, total });
    }
  }
  post({ type: 'progress', loaded, total });
  const all = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all.buffer;
}

/** The gzipped stream inflated into one array of `bytes` (the browser's own gunzip). */
async function inflate(gzip: ArrayBuffer, bytes: number): Promise<Uint8Array> {
  const out = new Uint8Array(bytes);
  const reader = new Blob([gzip]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (at + value.length > bytes) throw new Error(`the dataset inflates past the ${bytes} bytes announced`);
    out.set(value, at);
    at += value.length;
  }
  if (at !== bytes) throw new Error(`the dataset inflates to ${at} bytes, not the ${bytes} announced`);
  return out;
}

/** Backoff between attempts to reach the coordinator again, and how long to keep trying without progress. */
const RETRY_MS = [500, 1000, 2000, 4000, 8000];
const RETRY_FOR_MS = 60_000;
/** A connection open this long counts as healthy even without a slice (a coordinator waiting for workers). */
const HEALTHY_CONNECTION_MS = 10_000;

/** Joins and computes until the run completes, the tab leaves, or the coordinator refuses it. */
async function compute(source: LocalGradientSource, data: TrainingData, kernel: string): Promise<void> {
  const replica = source.residentWeights(zeroWeights());
  const label = `browser tab ${Math.random().toString(36).slice(2, 6)}`;
  const engine = engineName();
  const totals = { slices: 0, samples: 0, computeMs: 0 };
  let since = Date.now();
  let failures = 0;
  for (let attempt = 0; ; attempt++) {
    stillHere();
    let slicesThisConnection = 0;
    post({ type: 'phase', phase: 'connecting', text: attempt === 0 ? 'joining the run' : 'joining the run again' });
    const end = await connectOnce((m, send) => {
      switch (m.type) {
        case 'welcome':
          post({ type: 'joined', workerId: m.workerId });
          post({ type: 'phase', phase: 'computing', text: `computing as worker ${m.workerId}` });
          return;
        case 'task': {
          if (m.weights !== null) {
            copyWeights(replica, m.weights);
            held = m.version;
          }
          if (held !== m.version) throw new ProtocolError('UNEXPECTED_MESSAGE', `task ${m.task} refers to weights version ${m.version}, which this tab does not hold`);
          const started = performance.now();
          let out;
          try {
            out = source.compute(m.indices, replica, held);
          } catch (e) {
            if (e instanceof RangeError) throw new ProtocolError('MALFORMED_MESSAGE', `task ${m.task}: ${e.message}`);
            throw e;
          }
          const ms = performance.now() - started;
          send({ type: 'result', task: m.task, sums: out.sums, rows: rowList(out.rows) });
          totals.slices++;
          totals.samples += m.indices.length;
          totals.computeMs += ms;
          slicesThisConnection++;
          post({ type: 'slice', ...totals, epoch: m.epoch ?? null, version: m.version });
          return;
        }
        case 'bye':
          return;
      }
    }, { dataset: data.fingerprint, kernel, label, engine });
    if (leaving) throw new Ended('WORKER_SHUTDOWN', 'you left; the coordinator gave your slices to other workers', true);
    if (end.reason !== undefined && REASONS[end.reason].fatal) {
      if (end.reason === 'RUN_COMPLETE') throw new Ended('RUN_COMPLETE', 'training is complete: thank you', false);
      throw new Ended(end.reason, `[${end.reason}] ${REASONS[end.reason].text}${end.detail ? ` (${end.detail})` : ''}`, false);
    }
    // The rule of `mnist-lr worker`: a connection that did work, or lasted, was healthy, and the
    // retry budget starts afresh. One that closed at once (refused after its hello, dropped before
    // any slice, again and again) uses the budget up, so that a tab that cannot do useful work
    // stops instead of reconnecting forever.
    if (end.opened && (slicesThisConnection > 0 || end.openMs >= HEALTHY_CONNECTION_MS)) {
      since = Date.now();
      failures = 0;
    }
    failures++;
    if (Date.now() - since > RETRY_FOR_MS) throw new Ended(end.reason ?? null, `the coordinator cannot be reached (${end.detail || `close code ${end.code}`}); reload to try again`, true);
    await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(failures - 1, RETRY_MS.length - 1)]! * (0.5 + Math.random() / 2)));
  }
}

interface ConnectionEnd {
  reason: Reason | undefined;
  opened: boolean;
  /** How long the connection was open, milliseconds (0 if it never opened). */
  openMs: number;
  code: number;
  detail: string;
}

/** One WebSocket connection to the coordinator, from hello to close. */
function connectOnce(
  onMessage: (m: CoordinatorMessage, send: (m: WorkerMessage) => void) => void,
  hello: { dataset: string; kernel: string; label: string; engine: string },
): Promise<ConnectionEnd> {
  return new Promise((resolve) => {
    held = -1;
    const url = new URL('/', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url, joinProtocols(secret));
    socket = ws;
    ws.binaryType = 'arraybuffer';
    let opened = false;
    let openedAt = 0;
    const buffers = new DecodeBuffers();
    const send = (m: WorkerMessage): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeMessage(m));
    };
    ws.onopen = () => {
      opened = true;
      openedAt = performance.now();
      send({ type: 'hello', protocol: PROTOCOL_VERSION, dataset: hello.dataset, kernel: hello.kernel, worker: hello.label, engine: hello.engine });
    };
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (leaving) return;
      try {
        if (typeof e.data === 'string') throw new ProtocolError('MALFORMED_MESSAGE', 'text frames are not part of the protocol');
        onMessage(decodeCoordinatorMessage(new Uint8Array(e.data), buffers), send);
      } catch (err) {
        const reason: Reason = err instanceof ProtocolError ? err.reason : 'MALFORMED_MESSAGE';
        ws.close(REASONS[reason].close, closeText(err instanceof Error ? err.message : String(err)));
      }
    };
    ws.onclose = (e: CloseEvent) => {
      socket = null;
      // A refused upgrade is a close with 1006 and nothing else: a browser shows a page no HTTP status.
      resolve({ reason: reasonOfClose(e.code), opened, openMs: opened ? performance.now() - openedAt : 0, code: e.code, detail: e.reason || (opened ? '' : 'the coordinator refused or could not be reached') });
    };
  });
}
