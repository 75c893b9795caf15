import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// Tests run against the packages' sources; spawned worker threads and processes run the built
// dist/ (the test script builds first).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@mnist-lr\/core\/protocol$/, replacement: src('./packages/core/src/protocol/index.ts') },
      { find: /^@mnist-lr\/core\/engine$/, replacement: src('./packages/core/src/engine.ts') },
      { find: /^@mnist-lr\/core\/browser$/, replacement: src('./packages/core/src/browser/index.ts') },
      { find: /^@mnist-lr\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@mnist-lr\/worker$/, replacement: src('./packages/worker/src/index.ts') },
      { find: /^@mnist-lr\/coordinator\/defaults$/, replacement: src('./packages/coordinator/src/defaults.ts') },
      { find: /^@mnist-lr\/watch\/monitor$/, replacement: src('./packages/watch/src/monitor/index.ts') },
      { find: /^@mnist-lr\/watch\/status$/, replacement: src('./packages/watch/src/status.ts') },
      { find: /^@mnist-lr\/watch$/, replacement: src('./packages/watch/src/index.ts') },
      { find: /^@mnist-lr\/coordinator$/, replacement: src('./packages/coordinator/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
