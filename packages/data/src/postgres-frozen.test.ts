import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDataStore } from './index.js';
import { PgConnection } from './postgres/connection.js';
import { loadPg } from './postgres/driver.js';
import { postgresTarget } from './postgres/url.js';
import { postgresUrlFor, storeTargets, testPostgres } from './test-support.js';

/** The parent process id of `pid`. */
function parentOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
}

/**
 * Stops this file's own PostgreSQL server, its postmaster and every backend (a frozen
 * server: the kernel still takes connections and bytes, nobody answers); the function it
 * returns continues them.
 */
async function freeze(): Promise<() => void> {
  const pg = await testPostgres();
  const dir = await pg.sql('postgres', 'SHOW data_directory');
  const postmaster = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const backends = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        return parentOf(pid) === postmaster;
      } catch {
        return false; // ended meanwhile
      }
    });
  // As root the server runs under `runuser`, which stops itself while its child is
  // stopped: it is continued too, or stopping the server at the end waits forever.
  const parent = parentOf(postmaster);
  const stopped = [postmaster, ...backends];
  const thaw = () => {
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
    if (parent > 1) process.kill(parent, 'SIGCONT');
  };
  for (const pid of stopped) process.kill(pid, 'SIGSTOP');
  // Continued in any case: a test that hangs must not leave the server stopped.
  setTimeout(thaw, 20_000).unref();
  return thaw;
}

describe.runIf(storeTargets().includes('postgres'))('a frozen PostgreSQL', () => {
  it('fails a statement with DATA_UNREACHABLE in bounded time, and the store works once it is back', {
    timeout: 60_000,
  }, async () => {
    const url = await postgresUrlFor(':memory:');
    const store = await openDataStore({ url, connectTimeoutMs: 1_000, queryTimeoutMs: 500 });
    try {
      await store.meta.set('k', '1');
      const thaw = await freeze();
      try {
        for (let i = 0; i < 2; i++) {
          const started = Date.now();
          const error = await store.meta.get('k').then(
            () => new Error('answered'),
            (e: unknown) => e,
          );
          expect(error).toMatchObject({ code: 'DATA_UNREACHABLE' });
          // A statement's wait (0.5 s), then a check that cannot connect (1 s): bounded, where
          // it hung for good before; the bound leaves a loaded machine room.
          expect(Date.now() - started).toBeLessThan(10_000);
        }
      } finally {
        thaw();
      }
      expect(await store.meta.get('k')).toBe('1');
      await store.meta.set('k', '2');
      expect(await store.meta.get('k')).toBe('2');
    } finally {
      await store.close();
    }
  });

  it('keeps a statement that runs longer than the timeout on a server that answers', {
    timeout: 30_000,
  }, async () => {
    const url = await postgresUrlFor(':memory:');
    const conn = await PgConnection.open(await loadPg(), postgresTarget(url), {
      connectTimeoutMs: 1_000,
      queryTimeoutMs: 200,
    });
    try {
      const { rows } = await conn.query('SELECT pg_sleep(1.5), 7 AS n');
      expect(rows[0]).toMatchObject({ n: 7 });
    } finally {
      await conn.close();
    }
  });
});
