#!/usr/bin/env node
// Builds one core's napi binding: `node tools/scripts/build-native.mjs <core>`, run from
// packages/<core>. Compiles crates/<core> in release mode and writes the .node file and
// the generated loader (index.cjs + index.d.cts) into packages/<core>/native/.
//
// turbo keys this task on the Rust sources only (turbo.json) and caches the binary and the
// typings, not index.cjs: the loader carries the package version, which changes at every
// release without any Rust change. `pnpm version-packages` regenerates the loader for the
// new version (tools/scripts/sync-platform-versions.mjs), so a build after it, and the
// release after that build, replay the binaries from cache instead of recompiling.
// (A renamed napi.binaryName is the one package.json change that needs `--force`.)
//
// With no Rust toolchain the build is skipped with a notice (the core then runs its js
// implementation); with a toolchain, a failed cargo build fails the task.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const core = process.argv[2];
if (!core) {
  console.error('usage: build-native.mjs <core>');
  process.exit(2);
}
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const manifest = join(root, 'crates', core, 'Cargo.toml');
if (!existsSync(manifest)) {
  console.error(`build-native: ${manifest} not found`);
  process.exit(2);
}

const toolchain = spawnSync('cargo', ['--version'], { encoding: 'utf8' });
if (toolchain.error || toolchain.status !== 0) {
  console.warn(
    `[aios] no Rust toolchain (cargo) found: @aios/${core} is built without its native binding ` +
      'and will run its js implementation. Install Rust (https://rustup.rs) and rebuild for native.',
  );
  process.exit(0);
}

const profile = process.env.AIOS_NATIVE_PROFILE === 'debug' ? [] : ['--release'];
// The napi CLI is a devDependency of the core's package; run its bin with this node.
const requireFromPackage = createRequire(join(process.cwd(), 'package.json'));
const cliManifest = requireFromPackage.resolve('@napi-rs/cli/package.json');
const cliBin = JSON.parse(readFileSync(cliManifest, 'utf8')).bin.napi;
const napi = spawnSync(
  process.execPath,
  [
    join(dirname(cliManifest), cliBin),
    'build',
    '--platform',
    ...profile,
    '--manifest-path',
    manifest,
    // The binding module and napi itself sit behind the crate's `napi` feature, so the
    // logic modules build and test as plain Rust.
    '--features',
    'napi',
    '--output-dir',
    'native',
    '--js',
    'index.cjs',
    '--dts',
    'index.d.cts',
  ],
  { stdio: 'inherit' },
);
if (napi.error) {
  console.error(`build-native: could not run napi: ${napi.error.message}`);
  process.exit(1);
}
process.exit(napi.status ?? 1);
