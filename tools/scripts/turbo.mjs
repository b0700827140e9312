#!/usr/bin/env node
// Runs turbo with AIOS_RUST_TOOLCHAIN set to the installed rustc version (or "none"), so
// that cached native builds are keyed by the toolchain: a binary built by another rustc,
// or a js-only build made on a machine without Rust, is never replayed from cache.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const rustc = spawnSync('rustc', ['--version'], { encoding: 'utf8' });
const toolchain = rustc.status === 0 ? rustc.stdout.trim() : 'none';
// Works from `pnpm run` (turbo on PATH) and from plain `node` (the workspace's own turbo).
const local = join(import.meta.dirname, '../../node_modules/.bin/turbo');
const result = spawnSync(existsSync(local) ? local : 'turbo', process.argv.slice(2), {
  stdio: 'inherit',
  env: { ...process.env, AIOS_RUST_TOOLCHAIN: toolchain },
  shell: process.platform === 'win32',
});
if (result.error) console.error(`turbo: ${result.error.message}`);
process.exit(result.status ?? 1);
