import { defineConfig } from 'vitest/config';

/**
 * Component and unit tests run next to the code (src/**), the browser suite and the API
 * freshness check under test/. The browser suite starts a real server and Chromium, so it
 * gets a longer timeout.
 */
export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
