import { defineConfig } from 'vitest/config';

const jsx = { jsx: { runtime: 'automatic' as const, importSource: 'preact' } };

/**
 * Two projects: unit and component tests (next to the code, plus the checks of the build
 * and the generated client), and the browser suites, which share one live `aios serve`
 * (test/support/global-server.ts) and get longer timeouts.
 */
export default defineConfig({
  oxc: jsx,
  test: {
    projects: [
      {
        oxc: jsx,
        test: {
          name: 'unit',
          include: [
            'src/**/*.test.ts',
            'src/**/*.test.tsx',
            'test/bundle.test.ts',
            'test/openapi.test.ts',
          ],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'browser',
          include: [
            'test/**/*.e2e.test.ts',
            'test/search-latency.test.ts',
            'test/ui-command.test.ts',
          ],
          globalSetup: ['test/support/global-server.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // A page settles in its own time on a loaded machine: what is polled for (an
          // address, a list) gets ten seconds, not the default one.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
