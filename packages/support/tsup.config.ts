import { aiosPackage } from '../../tsup.preset.mjs';

// prom-client goes into the bundle: as its own package it is some 30 CommonJS modules,
// which Node resolves, scans and compiles one by one on every start of the CLI. Bundled
// CommonJS requires Node's own modules: the ES module build gets a `require` for them.
export default aiosPackage(['src/index.ts'], {
  noExternal: ['prom-client', 'tdigest', 'bintrees'],
  banner: ({ format }) =>
    format === 'esm'
      ? {
          js: "import { createRequire as __aiosCreateRequire } from 'node:module';\nconst require = __aiosCreateRequire(import.meta.url);",
        }
      : {},
});
