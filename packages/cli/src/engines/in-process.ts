/** `train --workers 0`: core's `train()` in this thread, no workers, no network. */
import { train } from '@mnist-lr/core/engine';

import type { TrainingEngine } from './engine.js';

export const inProcessEngine: TrainingEngine = {
  description: 'in-process',
  workers: 0,
  async run({ config, data, hooks, state, signal }) {
    const result = await train({ config, data, hooks, state, signal });
    return { weights: result.weights, history: result.history };
  },
};
