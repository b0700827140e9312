import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { postgresTarget } from '@aios/data';
import { AiosError } from '@aios/utils';

/**
 * The PostgreSQL client programs a backup runs (pg_dump, psql), and how they reach the
 * store's server: the URL without its password on the command line, the password only in
 * the child's environment (PGPASSWORD), never in argv, never in what is shown or logged.
 */

const run = promisify(execFile);

/** Where Debian and Ubuntu install each major version's programs. */
const DEBIAN_ROOT = '/usr/lib/postgresql';

/** How the client programs connect to the store. */
export interface PostgresConnection {
  /** The configured URL without a password: what the programs get as `--dbname`. */
  url: string;
  password: string | undefined;
  /** The database's name (from the URL). */
  database: string;
}

/** The connection of a `data.url` (and `data.password`) from the config, checked as the store checks it. */
export function postgresConnection(url: string, password: string | undefined): PostgresConnection {
  const target = postgresTarget(url, password);
  return { url: target.display, password: target.password, database: target.database };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The newest `/usr/lib/postgresql/<major>/bin` first. */
function debianBins(): string[] {
  let majors: string[];
  try {
    majors = readdirSync(DEBIAN_ROOT).filter((n) => /^\d+(\.\d+)?$/.test(n));
  } catch {
    return [];
  }
  return majors.sort((a, b) => Number(b) - Number(a)).map((m) => join(DEBIAN_ROOT, m, 'bin'));
}

/**
 * Finds a client program: in `AIOS_POSTGRES_BIN` (a directory) alone when it is set, else
 * on the PATH, else in the newest `/usr/lib/postgresql/<major>/bin`.
 * `POSTGRES_TOOL_MISSING` names what to install.
 */
export function findPostgresTool(name: 'pg_dump' | 'psql'): string {
  const pinned = process.env.AIOS_POSTGRES_BIN;
  const dirs = pinned
    ? [pinned]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...debianBins()];
  for (const dir of dirs) {
    const path = join(dir, name);
    if (executable(path)) return path;
  }
  throw new AiosError(
    'POSTGRES_TOOL_MISSING',
    `${name} was not found (${pinned ? `AIOS_POSTGRES_BIN=${pinned}` : `PATH, ${DEBIAN_ROOT}/*/bin`}): a backup of a PostgreSQL store needs the PostgreSQL client programs of the server's major version or newer (Debian/Ubuntu: apt install postgresql-client; macOS: brew install libpq; or set AIOS_POSTGRES_BIN to their directory)`,
    { details: { tool: name } },
  );
}

/** The major version of a client program (`pg_dump (PostgreSQL) 15.18 (Debian ...)` -> 15). */
export async function toolMajor(path: string): Promise<number> {
  const { stdout } = await run(path, ['--version']);
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
  if (!m) {
    throw new AiosError('POSTGRES_TOOL_MISSING', `${path} --version said ${stdout.trim()}`, {
      details: { tool: path },
    });
  }
  return Number(m[1]);
}

/** The environment of a client program: the password in PGPASSWORD, no AIOS_* secrets. */
export function clientEnv(conn: PostgresConnection): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AIOS_')) env[k] = v;
  if (conn.password !== undefined) env.PGPASSWORD = conn.password;
  else delete env.PGPASSWORD;
  env.PGCONNECT_TIMEOUT ??= '10';
  env.PGAPPNAME = 'aios-backup';
  return env;
}

/** `text` with every occurrence of the password replaced. */
function scrub(text: string, conn: PostgresConnection): string {
  return conn.password ? text.split(conn.password).join('****') : text;
}

/**
 * A failed client program as an AiosError: the store's codes for what the store would
 * have said (`DATA_AUTH_FAILED`, `DATA_UNREACHABLE`, `DATA_DATABASE_MISSING`), or
 * `fallback` with the program's first lines of stderr (the password never in them).
 */
export function clientError(
  conn: PostgresConnection,
  tool: string,
  stderr: string,
  fallback: string,
): AiosError {
  const said = scrub(stderr, conn)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 4)
    .join('; ');
  const code = /password authentication failed|no password supplied|authentication failed/i.test(
    stderr,
  )
    ? 'DATA_AUTH_FAILED'
    : /database ".*" does not exist/i.test(stderr)
      ? 'DATA_DATABASE_MISSING'
      : /could not connect|connection refused|could not translate host|timeout expired|server closed the connection/i.test(
            stderr,
          )
        ? 'DATA_UNREACHABLE'
        : /server version mismatch/i.test(stderr)
          ? 'POSTGRES_TOOL_TOO_OLD'
          : fallback;
  return new AiosError(code, `${tool} on ${conn.url}: ${said || 'failed'}`, {
    details: { url: conn.url, tool },
  });
}

/** Collects at most 64 KiB of a child's stderr (enough for its error messages). */
export function collectStderr(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (text.length < 65_536) text += d;
  });
  return () => text;
}

/** Waits for a child to exit; its exit code (or -1 when it could not start or was killed). */
export function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('error', () => resolve(-1));
    child.once('close', (code) => resolve(code ?? -1));
  });
}

/** Runs one query with psql (`-XAt`) and returns its output lines. */
export async function psqlQuery(
  psql: string,
  conn: PostgresConnection,
  sql: string,
): Promise<string[]> {
  const child = spawn(psql, ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', conn.url], {
    env: clientEnv(conn),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr = collectStderr(child);
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    out += d;
  });
  child.stdin?.on('error', () => undefined); // a psql that failed at once: its stderr says why
  child.stdin?.end(`${sql}\n`);
  const code = await exited(child);
  if (code !== 0) throw clientError(conn, 'psql', stderr(), 'POSTGRES_QUERY_FAILED');
  return out.split('\n').filter((l) => l !== '');
}
