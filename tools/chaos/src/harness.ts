import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDataStore } from '@aios/data';
import type { Implementation } from '@aios/utils';
import { afterAll } from 'vitest';

/** The built CLI of the workspace (`pnpm build`). */
export const cli = fileURLToPath(new URL('../../../packages/core/dist/cli.js', import.meta.url));

/** Exit code of a CLI run that was interrupted by an error nobody coded. */
export const UNEXPECTED_EXIT = 70;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of one CLI run: only what a user's shell would pass, plus `env`. */
export function cliEnv(home: string, impl: Implementation, env: Record<string, string> = {}) {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? home,
    AIOS_HOME: home,
    AIOS_NATIVE: impl,
    NO_COLOR: '1',
    ...env,
  };
}

/** Runs `aios ...args` to completion. */
export function runCli(
  home: string,
  impl: Implementation,
  args: string[],
  env: Record<string, string> = {},
): CliResult {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    cwd: home,
    timeout: 180_000,
    env: cliEnv(home, impl, env),
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Fails with the command's output unless it exited 0. */
export function mustRun(
  home: string,
  impl: Implementation,
  args: string[],
  env: Record<string, string> = {},
): CliResult {
  const r = runCli(home, impl, args, env);
  if (r.code !== 0) {
    throw new Error(
      `aios ${args.join(' ')} (${impl}) exited ${r.code ?? r.signal}:\n${r.stderr}${r.stdout}`,
    );
  }
  return r;
}

/** A running CLI process whose stdout is read line by line. */
export interface Running {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  stderr: () => string;
  /** Resolves when a line matching `pattern` has been printed (or rejects when it exits first). */
  waitForLine(pattern: RegExp): Promise<string>;
  /** Resolves with how it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(
  home: string,
  impl: Implementation,
  args: string[],
  env: Record<string, string> = {},
): Running {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: home,
    env: cliEnv(home, impl, env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  let partial = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    partial += chunk;
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i] as (typeof waiters)[number];
        if (w.pattern.test(line)) {
          waiters.splice(i, 1);
          w.resolve(line);
        }
      }
      nl = partial.indexOf('\n');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    lines,
    stderr: () => err,
    exited,
    waitForLine(pattern) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then(({ code, signal }) =>
          reject(
            new Error(
              `aios ${args.join(' ')} ended (${code ?? signal}) before printing ${pattern}: ${err}`,
            ),
          ),
        );
      });
    },
  };
}

/** SIGKILLs a running CLI and waits for it to be gone. */
export async function kill(run: Running): Promise<boolean> {
  const killed = run.child.exitCode === null && run.child.signalCode === null;
  if (killed) run.child.kill('SIGKILL');
  const { signal } = await run.exited;
  return killed && signal === 'SIGKILL';
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A deterministic pseudo-random source, so a failing run can be replayed from its seed. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

/** The seed of this run: `AIOS_CHAOS_SEED`, else a fresh one (printed with the report). */
export const seed = Number.parseInt(process.env.AIOS_CHAOS_SEED ?? '', 10) || Date.now() % 1e9;

/** Fresh temporary directories, removed after the suite. */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  }, 120_000);
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

/**
 * Notes whose every text carries a unique marker, so that what survived can be checked by
 * marker whatever the chunking. Each note is one short paragraph (one fragment).
 */
export function writeNotes(dir: string, prefix: string, count: number): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const markers = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const marker = `${prefix}x${i}x${randomBytes(4).toString('hex')}`;
    const name = `${prefix}-${String(i).padStart(3, '0')}.md`;
    writeFileSync(
      join(dir, name),
      `Note ${marker} records that the ${WORDS[i % WORDS.length]} was checked on day ${i} ` +
        `and found in order by the ${WORDS[(i * 7) % WORDS.length]} team.\n`,
    );
    markers.set(name, marker);
  }
  return markers;
}

const WORDS = [
  'boiler',
  'garden',
  'roof',
  'bicycle',
  'freezer',
  'chimney',
  'library',
  'kitchen',
  'garage',
  'window',
  'printer',
  'router',
];

/** Files an ingest run reported done (its per-file lines: `<path>: N fragments, ...`). */
export function ingestAcks(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const m = /^(.+?): \d+ fragments?, /.exec(line);
    if (m) out.push((m[1] as string).split(/[\\/]/).pop() as string);
  }
  return out;
}

/** Every fragment text of the home's database, and whether SQLite finds the file intact. */
export async function readHome(
  home: string,
  impl: Implementation,
): Promise<{ texts: string[]; integrity: string }> {
  const data = await openDataStore({ path: join(home, 'aios.db'), native: impl });
  try {
    const integrity = await data.integrityCheck();
    const texts: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await data.fragments.list({ limit: 1000, ...(after ? { after } : {}) });
      for (const f of page) texts.push(f.text);
      if (page.length < 1000) break;
      after = (page[page.length - 1] as { id: string }).id;
    }
    return { texts, integrity };
  } finally {
    await data.close();
  }
}

/** The markers of `wanted` found in no text. */
export function missingMarkers(texts: readonly string[], wanted: Iterable<string>): string[] {
  const all = texts.join('\n');
  return [...wanted].filter((m) => !all.includes(m));
}

/** Counts of one reliability suite, reported when it ends. */
export class Tally {
  operations = 0;
  kills = 0;
  faults = 0;
  acknowledged = 0;
  lost = 0;

  constructor(readonly name: string) {
    afterAll(() => this.report());
  }

  report(): void {
    const line =
      `chaos ${this.name}: ${this.operations} operations, ${this.kills} kills, ` +
      `${this.faults} faults injected, ${this.acknowledged} acknowledged writes checked, ` +
      `${this.lost} lost (seed ${seed})`;
    console.log(line);
    const file = process.env.AIOS_CHAOS_REPORT;
    if (file) appendFileSync(file, `${JSON.stringify({ suite: this.name, ...this, seed })}\n`);
  }
}

/** Asserts a failed command failed cleanly: a coded one-line error, no stack trace. */
export function cleanFailure(r: CliResult): string | undefined {
  if (r.code === 0) return undefined;
  if (r.code === UNEXPECTED_EXIT) return `unexpected error (exit 70): ${r.stderr}`;
  if (/\n\s+at .+:\d+:\d+/.test(r.stderr)) return `stack trace on stderr: ${r.stderr}`;
  if (!/\[[A-Z][A-Z0-9_]+\]/.test(r.stderr)) return `error without a code: ${r.stderr}`;
  return undefined;
}

/** Writes `bytes` of random (incompressible, never deduplicated) data to `path`. */
export function writeRandomFile(path: string, bytes: number): string {
  mkdirSync(dirname(path), { recursive: true });
  const data = randomBytes(bytes);
  writeFileSync(path, data);
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of every file named in `names` found anywhere under `dir` (by base name). */
export function hashesUnder(dir: string, names: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && names.has(entry.name)) {
        out.set(entry.name, createHash('sha256').update(readFileSync(p)).digest('hex'));
      }
    }
  };
  walk(dir);
  return out;
}

/** The snapshot ids `aios backup list --json` reports. */
export function snapshotIds(home: string, impl: Implementation): string[] {
  const listed = JSON.parse(mustRun(home, impl, ['backup', 'list', '--json']).stdout) as unknown;
  const items = Array.isArray(listed)
    ? listed
    : ((listed as { snapshots?: unknown[] }).snapshots ?? []);
  return items.map((s) => (s as { id: string }).id);
}

/** The id of the snapshot a `backup create --json` printed. */
export function createdId(stdout: string): string {
  const r = JSON.parse(stdout) as { snapshot?: { id?: string }; id?: string };
  const id = r.snapshot?.id ?? r.id;
  if (typeof id !== 'string') throw new Error(`no snapshot id in ${stdout}`);
  return id;
}

/** Leftovers of interrupted restores in a home. */
export function restoreLeftovers(home: string): string[] {
  return readdirSync(home).filter((n) => n.startsWith('.restore-'));
}

/**
 * When to kill a run of an operation: at a random point of its expected duration, learnt
 * from runs that finished before their kill, so that most attempts land mid-operation.
 */
export class KillClock {
  constructor(
    private expectedMs: number,
    private readonly rand: () => number,
  ) {}

  /** Milliseconds to wait before the kill. */
  delay(): number {
    return this.expectedMs * (0.1 + 0.8 * this.rand());
  }

  /** A run that was not killed took `ms`: aim within that from now on. */
  finishedIn(ms: number): void {
    this.expectedMs = Math.max(20, Math.min(this.expectedMs, ms));
  }
}

/** Fails unless `aios doctor` finds nothing failed in the home (warnings are allowed). */
export function doctorPasses(home: string, impl: Implementation): void {
  const r = runCli(home, impl, ['doctor', '--json']);
  const report = JSON.parse(r.stdout) as { status: string; findings: unknown[] };
  if (report.status === 'fail') {
    throw new Error(`aios doctor failed:\n${JSON.stringify(report.findings, null, 2)}`);
  }
}
