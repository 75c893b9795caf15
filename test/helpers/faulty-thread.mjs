/**
 * A worker thread whose kernel misbehaves on cue: the real worker (the built @mnist-lr/worker)
 * and the real kernel, wrapped, so the handshake, the fingerprint, the shared-memory slot and the
 * sums are the real thing until the test says otherwise. Test-only; plain JavaScript because a
 * worker thread runs built code.
 *
 * workerData: { url, token, label, data, slot, control } as the thread entry takes them, plus
 * `control`, an Int32Array over a SharedArrayBuffer the test writes:
 *   control[0] = 0: compute honestly; 1: hang inside the next slice (spin there for ever, as a
 *   thread stuck in a computation does); 2: add 1 to the bias sums of every slice from now on
 *   (exact and plausible, wrong: only a recomputation tells).
 *   control[1] is set to 1 by the thread once it hangs inside a slice.
 * Posts { type: 'log', line } and finally { type: 'exit', outcome }, as the real thread entry does.
 */
import { parentPort, workerData } from 'node:worker_threads';

const root = new URL('../../', import.meta.url);
const { runWorker } = await import(new URL('packages/worker/dist/index.js', root).href);
const { createKernel } = await import(new URL('packages/core/dist/engine.js', root).href);

const { url, token, label, data, slot, control } = workerData;

/** The real kernel; over the training images (not the fingerprint's probe), obedient to `control`. */
function faultyKernel(images) {
  const kernel = createKernel(images, 'auto');
  if (images.count < 1000) return kernel;
  return new Proxy(kernel, {
    get(target, key) {
      if (key !== 'compute') {
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      }
      return (batch, weights, version) => {
        if (Atomics.load(control, 0) === 1) {
          Atomics.store(control, 1, 1);
          for (;;) {
            // Stuck inside the slice, never answering; worker.terminate() still ends the thread.
          }
        }
        const out = target.compute(batch, weights, version);
        if (Atomics.load(control, 0) === 2) out.sums.gb[0] += 1;
        return out;
      };
    },
  });
}

const post = (m) => parentPort?.postMessage(m);
const outcome = await runWorker({ url, token, label, data, slot, kernel: faultyKernel, log: (line) => post({ type: 'log', line }) });
post({ type: 'exit', outcome });
