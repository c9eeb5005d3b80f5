import { defineConfig } from 'vitest/config';

// Integration tests start real ZooKeeper servers and pvcd processes: two cores are shared
// by all of them, so files run a few at a time and the timeouts are generous.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    fileParallelism: true,
  },
});
