import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/**
 * Test suites that start real servers (PostgreSQL, Redis, Chromium, an embedding model, a
 * fuzzer) find them here. `tools/scripts/setup-test-tools.sh` installs them: Debian packages
 * on the PATH (PostgreSQL's server binaries under /usr/lib/postgresql/<version>/bin), Python
 * tools in the virtualenv `<repo>/.tools/py`. A suite whose tool is missing is skipped on a
 * developer's machine; with `AIOS_REQUIRE_TOOLS=1` (set by CI) a missing tool is an error,
 * so no suite can silently not run there.
 */

/** The monorepo root (the directory holding pnpm-workspace.yaml) above `from`, or null. */
export function repositoryRoot(from: string = process.cwd()): string | null {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Directories searched after the PATH: the tools virtualenv and PostgreSQL's bin dirs. */
function extraDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs: string[] = [];
  const root = repositoryRoot();
  const venv = env.AIOS_TOOLS_VENV ?? (root ? join(root, '.tools', 'py') : undefined);
  if (venv) dirs.push(join(venv, 'bin'));
  const pg = '/usr/lib/postgresql';
  if (existsSync(pg)) {
    const versions = readdirSync(pg).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) dirs.push(join(pg, version, 'bin'));
  }
  return dirs;
}

/** The absolute path of executable `name`, or null when it is not installed. */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs(env)];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/**
 * `findTool`, but throws when the tool is missing and `AIOS_REQUIRE_TOOLS=1`. Use as
 * `const pg = testTool('pg_ctl'); describe.skipIf(!pg)(...)`.
 */
export function testTool(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const path = findTool(name, env);
  if (!path && env.AIOS_REQUIRE_TOOLS === '1') {
    throw new Error(
      `${name} is required (AIOS_REQUIRE_TOOLS=1) but not installed: run bash tools/scripts/setup-test-tools.sh`,
    );
  }
  return path;
}
