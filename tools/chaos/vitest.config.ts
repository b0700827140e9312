import { defineConfig } from 'vitest/config';

// Each suite drives real processes that write to disk: run the files one after another so
// that kill timings measured in one suite are not skewed by another suite's load.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
