import { defineConfig } from 'vitest/config';

/** Test settings every @aios package shares: tests live next to the code they test. */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
