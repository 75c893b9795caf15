// A worker in your own process: joins a coordinator (another machine's, or `mnist-lr coordinator`)
// and computes the slices it is given until the run completes.
//
//   MNIST_LR_TOKEN=... node worker.mjs ws://HOST:PORT
import { runWorker } from '@mnist-lr/worker';

const url = process.argv[2];
const token = process.env.MNIST_LR_TOKEN;
if (!url || !token) {
  console.error('usage: MNIST_LR_TOKEN=TOKEN node worker.mjs ws://HOST:PORT');
  process.exit(2);
}

// Ctrl-C stops the worker between slices; the coordinator gives its slice to another worker.
const abort = new AbortController();
process.once('SIGINT', () => abort.abort());

// The worker loads MNIST itself (the same four files as the coordinator's: the handshake checks)
// and reconnects by itself if the connection drops.
const outcome = await runWorker({ url, token, signal: abort.signal, log: (line) => console.log(`worker: ${line}`) });
console.log(`${outcome.reason}: ${outcome.message} (${outcome.tasks} slices)`);
process.exitCode = outcome.reason === 'RUN_COMPLETE' || outcome.reason === 'ABORTED' ? 0 : 1;
