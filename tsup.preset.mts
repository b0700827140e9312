import { defineConfig, type Options } from 'tsup';

/**
 * The build every @aios package shares: ESM + CJS + types for Node 20. `shims` makes
 * `import.meta.url` (used to find a core's native loader) work in the CJS build too.
 */
export function aiosPackage(entry: NonNullable<Options['entry']>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    shims: true,
    target: 'node20',
    ...overrides,
  });
}
