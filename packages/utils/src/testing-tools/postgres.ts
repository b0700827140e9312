import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/**
 * A real PostgreSQL server for tests: Debian's server binaries (`initdb`, `postgres`),
 * a cluster in a temporary directory, listening on 127.0.0.1 only (its unix socket in
 * that directory), fsync off. initdb refuses to run as root: as root the cluster belongs
 * to the `postgres` OS user and the binaries run as that user (`runuser`).
 */
export interface TestPostgres {
  readonly port: number;
  /** The superuser the cluster was made with (password authentication on TCP). */
  readonly user: string;
  readonly password: string;
  /** `postgres://user:password@127.0.0.1:port/<database>`. */
  url(database?: string, options?: { password?: string | null }): string;
  /** Creates a database (from `template` when given) and returns its name. */
  createDatabase(name?: string, template?: string): Promise<string>;
  /** Runs SQL on `database` with `psql` (for tests that look under the store). */
  sql(database: string, sql: string): Promise<string>;
  /** Stops the server (`immediate`: as a crash would) and waits until it has exited. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

export interface TestPostgresOptions {
  /** Superuser name. Default `aios`. */
  user?: string;
  password?: string;
  /** How long the server may take to accept connections. Default 60 s. */
  startTimeoutMs?: number;
}

/** The OS user the cluster runs as: this one, or `postgres` when this one is root. */
async function clusterOwner(): Promise<{ uid: number; gid: number; name: string } | null> {
  if (process.getuid?.() !== 0) return null;
  try {
    const { stdout: uid } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()), name: 'postgres' };
  } catch {
    throw new Error(
      "PostgreSQL refuses to run as root and there is no `postgres` OS user to run it as: install Debian's postgresql package (bash tools/scripts/setup-test-tools.sh) or run the tests as another user",
    );
  }
}

let databases = 0;

/**
 * Starts a PostgreSQL server from the directory of `initdb` (the path `testTool('initdb')`
 * found) and waits until it accepts connections.
 */
export async function startTestPostgres(
  initdb: string,
  options: TestPostgresOptions = {},
): Promise<TestPostgres> {
  // The other binaries sit beside the real initdb (the PATH may hold a link to it).
  const bin = dirname(realpathSync(initdb));
  const user = options.user ?? 'aios';
  const password = options.password ?? 'test-postgres-password';
  const owner = await clusterOwner();
  const dir = mkdtempSync(join(tmpdir(), 'aios-postgres-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(pwfile, owner.uid, owner.gid);
  }
  chmodSync(dir, 0o700);
  /** Runs a server binary as the cluster's owner. */
  const command = (name: string, args: string[]): [string, string[]] =>
    owner
      ? ['runuser', ['-u', owner.name, '--', join(bin, name), ...args]]
      : [join(bin, name), args];
  const env = { ...process.env, PGPASSWORD: password, LC_ALL: 'C' };
  const exec = async (name: string, args: string[]) => {
    const [file, argv] = command(name, args);
    try {
      return (await run(file, argv, { env, maxBuffer: 16 * 1024 * 1024 })).stdout;
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`${name} failed: ${e.stderr || e.message}`);
    }
  };

  await exec('initdb', [
    '-D',
    data,
    '-U',
    user,
    `--pwfile=${pwfile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--no-sync',
  ]);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = '';

  const ready = async (deadline: number) => {
    for (;;) {
      try {
        await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', user], {
          env,
        });
        return;
      } catch {
        if (child?.exitCode !== null && child?.exitCode !== undefined) {
          throw new Error(`postgres exited (${child.exitCode}): ${log}`);
        }
        if (Date.now() > deadline) throw new Error(`postgres did not start in time: ${log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };

  const start = async () => {
    const [file, argv] = command('postgres', [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'shared_buffers=32MB',
      '-c',
      'max_connections=60',
    ]);
    log = '';
    const started = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4_000);
    };
    started.stdout?.on('data', keep);
    started.stderr?.on('data', keep);
    await ready(Date.now() + (options.startTimeoutMs ?? 60_000));
  };

  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    await exec('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']).catch(() => {
      running.kill('SIGKILL');
    });
    await exited;
  };

  const url = (database = 'postgres', opts: { password?: string | null } = {}) => {
    const pass = opts.password === undefined ? password : opts.password;
    const auth = pass === null ? user : `${user}:${encodeURIComponent(pass)}`;
    return `postgres://${auth}@127.0.0.1:${port}/${database}`;
  };

  const psql = async (database: string, sql: string) => {
    const { stdout } = await run(
      join(bin, 'psql'),
      ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url(database), '-c', sql],
      { env },
    ).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`psql failed: ${error.stderr || error.message}`);
    });
    return stdout.trim();
  };

  try {
    await start();
  } catch (error) {
    await stop('immediate').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    user,
    password,
    url,
    async createDatabase(name, template) {
      const db = name ?? `t${process.pid}_${++databases}_${userInfo().uid}`;
      await psql('postgres', `CREATE DATABASE "${db}"${template ? ` TEMPLATE "${template}"` : ''}`);
      return db;
    },
    sql: psql,
    stop,
    start,
    async close() {
      await stop('fast');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
