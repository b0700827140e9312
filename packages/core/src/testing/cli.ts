import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';

// Test support for the end-to-end suites: they drive the built CLI as a user would.

/** The built CLI (`pnpm --filter @aios/core build`). */
export const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli.js');

/**
 * Returns a maker of fresh AIOS_HOME directories, all removed after the suite. Removing a
 * home can take a while on a busy machine (one suite's holds 1500 notes), hence the timeout.
 */
export function tempHomes(prefix: string): () => string {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  }, 60_000);
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    roots.push(dir);
    return dir;
  };
}

/** Runs `aios ...args` with only PATH, AIOS_HOME and `env` set, in `home`. */
export function runCli(home: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    cwd: home,
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A CLI error is one line, `aios: <message> [<CODE>]`, and never a stack trace. */
export function expectOneLineError(stderr: string, code: string): void {
  expect(stderr).toMatch(new RegExp(`^aios: .*\\[${code}\\]\\n$`));
}

/**
 * What `aios ingest` said on stderr besides its progress lines (one a second when stderr
 * is not a terminal, so a slow machine prints some): warnings and errors only.
 */
export function besidesProgress(stderr: string): string {
  return stderr.replace(/^ingest: \d+% of .*\n/gm, '');
}
