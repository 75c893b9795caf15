/**
 * A worker thread that lies: the real worker (the built @mnist-lr/worker), whose result frames
 * are decoded on their way to the socket, corrupted, and encoded again. Everything else (the
 * connection, the handshake, the kernel) is the real thing. Test-only; plain JavaScript because a
 * worker thread runs built code.
 *
 * workerData: { url, token, label, lie: 'zeros' | 'scaled', every } lies on every `every`-th
 * result (1: all of them). Posts { type: 'log', line }, { type: 'lied', count } and finally
 * { type: 'exit', outcome }, as the real thread entry does.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const root = new URL('../../', import.meta.url);
// The ws module the worker itself uses, so that patching its send reaches the worker's socket.
const WebSocket = createRequire(new URL('packages/worker/package.json', root))('ws');
const { runWorker } = await import(new URL('packages/worker/dist/index.js', root).href);
const { decodeWorkerMessage, encodeMessage } = await import(new URL('packages/core/dist/protocol/index.js', root).href);

const { url, token, label, lie, every } = workerData;
let results = 0;
let lies = 0;

/** Well-formed, plausible, wrong: the codec accepts these; only a recomputation can tell. */
const CORRUPT = {
  zeros(sums) {
    sums.gW.fill(0);
    sums.gb.fill(0);
  },
  // 90 % of every sum, still integers on the exact grid.
  scaled(sums) {
    for (let i = 0; i < sums.gW.length; i++) sums.gW[i] = Math.round(sums.gW[i] * 0.9);
    for (let k = 0; k < sums.gb.length; k++) sums.gb[k] = Math.round(sums.gb[k] * 0.9);
  },
};

const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data, options, cb) {
  let m;
  try {
    m = decodeWorkerMessage(data);
  } catch {
    return send.call(this, data, options, cb);
  }
  if (m.type === 'result' && ++results % every === 0) {
    CORRUPT[lie](m.sums);
    data = encodeMessage(m);
    parentPort?.postMessage({ type: 'lied', count: ++lies });
  }
  return send.call(this, data, options, cb);
};

const outcome = await runWorker({ url, token, label, log: (line) => parentPort?.postMessage({ type: 'log', line }) });
parentPort?.postMessage({ type: 'exit', outcome });
