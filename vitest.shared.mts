import { defineConfig } from 'vitest/config';

/** Test settings every @aios package shares: tests live next to the code they test. */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // End-to-end tests run the CLI a dozen times; on a loaded 2-core machine that takes
    // a minute. A hang still fails.
    testTimeout: 120_000,
    // Setup hooks start servers and open homes: under the same load they need the same room.
    hookTimeout: 120_000,
  },
});
