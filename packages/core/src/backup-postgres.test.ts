import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { openRepository } from '@aios/backup';
import { acquireLease } from '@aios/utils';
import { startTestPostgres, type TestPostgres, testTool } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, expectOneLineError, runCli, tempHomes } from './testing/cli.js';

// Backups of a home whose store is PostgreSQL (data.url): pg_dump streamed into the
// snapshot, restored through psql in one transaction, on both implementations.
const initdb = testTool('initdb');
const tempHome = tempHomes('aios-backup-pg-');

/** `aios ...args` as runCli runs it, given the time an ingest of 400 notes takes on a busy machine. */
function runLong(home: string, args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    cwd: home,
    timeout: 240_000,
    env: { PATH: process.env.PATH ?? '', AIOS_HOME: home, ...env },
  });
  // How it ended, when not by itself (a signal, or the spawn failing), for the failure's message.
  const ended = [r.signal, r.error?.message].filter(Boolean).join(' ');
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ended };
}

/** A command that succeeded (its stderr, and how it ended, shown when it did not). */
function ok(r: { code: number | null; stdout: string; stderr: string; ended?: string }): void {
  const said = r.code === 0 ? '' : `${r.ended ?? ''}${r.stderr}${r.stdout.slice(-2000)}`;
  expect({ code: r.code, said }).toEqual({ code: 0, said: '' });
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** A Markdown file of `n` sections, one memory each (about 1 KB), with words of their own. */
function notes(prefix: string, n: number): string {
  return Array.from({ length: n }, (_, i) => {
    const lines = Array.from(
      { length: 8 },
      (_, j) =>
        `Entry ${j} of ${prefix}${i}: item ${i} of ${prefix} is kept in drawer ${(i + j) % 17} with label ${prefix}-${i * 7919 + j}.`,
    );
    return `## ${prefix} ${i}\n\nThe ${prefix}${i} record. ${lines.join(' ')}\n`;
  }).join('\n');
}

describe.skipIf(!initdb)('aios backup with a PostgreSQL store', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startTestPostgres(initdb as string);
  }, 120_000);
  afterAll(() => pg?.close());

  it.each(['native', 'js'])(
    'dumps, deduplicates and restores the store (%s)',
    {
      timeout: 300_000,
    },
    async (impl) => {
      const home = tempHome();
      const database = await pg.createDatabase();
      const url = pg.url(database, { password: null });
      const env = { AIOS_DATA__URL: url, AIOS_DATA__PASSWORD: pg.password, AIOS_NATIVE: impl };
      const output: string[] = [];
      const aios = (...args: string[]) => {
        const r = runLong(home, ['--offline', ...args], env);
        output.push(r.stdout, r.stderr);
        return r;
      };
      const ids = async () =>
        pg.sql(database, "SELECT string_agg(id, ',' ORDER BY id) FROM fragments");
      const search = (query: string) =>
        (
          JSON.parse(aios('memory', 'search', query, '-k', '1', '--json').stdout) as {
            results: Array<{ id: string; text: string }>;
          }
        ).results;

      const dir = join(home, 'notes');
      mkdirSync(dir);
      writeFileSync(join(dir, 'first.md'), notes('walrus', 400));
      ok(aios('ingest', dir));
      const firstIds = await ids();
      expect(firstIds.split(',').length).toBeGreaterThanOrEqual(400);

      const first = aios('backup', 'create', '--json');
      expect(first.stderr).toBe('');
      ok(first);
      const snap1 = JSON.parse(first.stdout) as { snapshot: { id: string }; warnings: unknown[] };
      expect(snap1.warnings).toEqual([]);

      // More memories, one deleted: the second dump differs in a few places only.
      writeFileSync(join(dir, 'second.md'), notes('pelican', 5));
      ok(aios('ingest', dir));
      const walrus = search('walrus7 record')[0];
      expect(walrus?.text).toContain('walrus7 ');
      ok(aios('memory', 'delete', walrus?.id as string));
      expect(search('pelican3 record')[0]?.text).toContain('pelican3 ');
      const second = aios('backup', 'create', '--json');
      ok(second);
      const snap2 = JSON.parse(second.stdout) as { snapshot: { id: string } };

      const repo = await openRepository(join(home, 'backups'), { native: 'js' });
      const dumpOf = async (id: string) =>
        (await repo.loadSnapshot(id)).entries.find(
          (e) => e.path === `postgres/${database}/public.sql`,
        );
      const [dump1, dump2] = [await dumpOf(snap1.snapshot.id), await dumpOf(snap2.snapshot.id)];
      expect(dump1?.size).toBeGreaterThan(1_000_000);
      const { chunks } = await repo.loadIndex();
      const had = new Set(dump1?.chunks);
      const added = (dump2?.chunks ?? [])
        .filter((c) => !had.has(c))
        .reduce((n, c) => n + (chunks.get(c)?.rawLength ?? 0), 0);
      expect(added).toBeLessThan((dump2?.size ?? 0) * 0.25);

      const diff = aios('backup', 'diff', snap1.snapshot.id, snap2.snapshot.id, '--json');
      expect(JSON.parse(diff.stdout).files.modified).toContain(`postgres/${database}/public.sql`);
      const verify = aios('backup', 'verify', '--read-data', '100');
      ok(verify);

      // Back to the first state: exactly its memories, in the database and in search.
      const unconfirmed = aios('backup', 'restore', snap1.snapshot.id);
      expectOneLineError(unconfirmed.stderr, 'CONFIRMATION_REQUIRED');
      const restore = aios('backup', 'restore', snap1.snapshot.id, '--confirm');
      expect(restore.stderr).toBe('');
      ok(restore);
      expect(restore.stdout).toMatch(/loaded postgres\/.*public\.sql .*checked/);
      expect(await ids()).toBe(firstIds);
      expect(search('pelican3 record').some((r) => r.text.includes('pelican'))).toBe(false);
      expect(search('walrus7 record')[0]?.text).toContain('walrus7 ');
      ok(aios('memory', 'stats', '--json'));

      // --target writes the dump out as the file it is.
      const target = mkdtempSync(join(tmpdir(), 'aios-pg-target-'));
      ok(aios('backup', 'restore', snap2.snapshot.id, '--target', join(target, 'home')));
      const sql = readFileSync(join(target, 'home', 'postgres', database, 'public.sql'), 'utf8');
      expect(sql).toContain('pelican3 ');
      expect(sql).toContain('COPY public.fragments');

      // The password is in no output and no file of the repository or the restored tree.
      for (const text of output) expect(text).not.toContain(pg.password);
      for (const file of [...filesUnder(join(home, 'backups')), ...filesUnder(target)]) {
        expect(readFileSync(file).includes(pg.password)).toBe(false);
      }
    },
  );

  it('a wrong password or a missing pg_dump is a coded error and no snapshot', {
    timeout: 120_000,
  }, async () => {
    const home = tempHome();
    const database = await pg.createDatabase();
    const url = pg.url(database, { password: null });
    const env = { AIOS_DATA__URL: url, AIOS_DATA__PASSWORD: pg.password };
    expect(runCli(home, ['memory', 'stats'], env).code).toBe(0); // the store is created
    const snapshots = () => {
      const r = runCli(home, ['backup', 'list', '--json'], env);
      return r.code === 0 ? (JSON.parse(r.stdout) as unknown[]).length : 0;
    };

    const wrong = runCli(home, ['backup', 'create'], {
      ...env,
      AIOS_DATA__PASSWORD: 'not-the-password',
    });
    expect(wrong.code).not.toBe(0);
    expectOneLineError(wrong.stderr, 'DATA_AUTH_FAILED');
    expect(wrong.stderr + wrong.stdout).not.toContain(pg.password);
    expect(snapshots()).toBe(0);

    // Only psql where AIOS_POSTGRES_BIN points: pg_dump is missing.
    const bin = mkdtempSync(join(tmpdir(), 'aios-pg-bin-'));
    symlinkSync(join(dirname(realpathSync(initdb as string)), 'psql'), join(bin, 'psql'));
    const missing = runCli(home, ['backup', 'create'], { ...env, AIOS_POSTGRES_BIN: bin });
    expect(missing.code).not.toBe(0);
    expectOneLineError(missing.stderr, 'POSTGRES_TOOL_MISSING');
    expect(missing.stderr).toContain('pg_dump');
    expect(snapshots()).toBe(0);

    // A pg_dump older than the server is refused before it runs.
    const old = mkdtempSync(join(tmpdir(), 'aios-pg-old-'));
    symlinkSync(join(dirname(realpathSync(initdb as string)), 'psql'), join(old, 'psql'));
    writeFileSync(join(old, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 11.22"\n', {
      mode: 0o755,
    });
    const tooOld = runCli(home, ['backup', 'create'], { ...env, AIOS_POSTGRES_BIN: old });
    expectOneLineError(tooOld.stderr, 'POSTGRES_TOOL_TOO_OLD');
    expect(snapshots()).toBe(0);

    const created = runCli(home, ['backup', 'create'], env);
    ok(created);
    expect(snapshots()).toBe(1);

    // A server holding the home keeps a restore in place out (its store is on the server).
    const server = await acquireLease('exclusive', {
      dir: join(home, '.serve.lock'),
      operation: 'aios serve',
    });
    try {
      const busy = runCli(home, ['backup', 'restore', 'latest', '--confirm'], env);
      expectOneLineError(busy.stderr, 'DATA_BUSY');
      expect(busy.stderr).toContain('a server runs on');
    } finally {
      await server.release();
    }
  });
});
