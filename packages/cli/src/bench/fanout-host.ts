/**
 * A process hosting many workers for `bench fanout`: `node fanout-host.js URL TOKEN COUNT` loads
 * MNIST once and runs COUNT workers on its one thread, each with its own WebSocket connection,
 * kernel and hello, as COUNT worker processes would join. Together they compute each step's
 * whole batch once (every worker its slice), so 64 of them cost a 2-core machine no more
 * arithmetic than one; the coordinator, in the bench's process, sees 64 peers. The bench ends
 * it with SIGTERM once its cell is measured.
 */
import '../gc-tuning.js';

import { loadTrainingData } from '@mnist-lr/core/engine';
import { runWorker } from '@mnist-lr/worker';

const [url, token, count] = process.argv.slice(2);
if (!url || !token || !count) throw new Error('usage: fanout-host.js URL TOKEN COUNT');
const data = loadTrainingData();
await Promise.all(
  Array.from({ length: Number(count) }, async (_, i) => {
    const outcome = await runWorker({ url, token, data, label: `fanout-${i + 1}` });
    if (outcome.reason !== 'RUN_COMPLETE') process.stderr.write(`fanout host: worker ${i + 1} stopped: ${outcome.message}\n`);
  }),
);
