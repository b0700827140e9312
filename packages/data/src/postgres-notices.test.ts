import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeWatch, type DataStore, openDataStore } from './index.js';
import { deferred, postgresUrlFor, storeTargets, testPostgres } from './test-support.js';

/** Notices and resyncs a watch heard, in order. */
function recorder() {
  const heard: Array<number | 'resync'> = [];
  return {
    heard,
    handlers: {
      onChange: (seq: number) => heard.push(seq),
      onResync: () => heard.push('resync'),
    },
    changes: () => heard.filter((h): h is number => h !== 'resync'),
    resyncs: () => heard.filter((h) => h === 'resync').length,
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(storeTargets().filter((t) => t !== 'postgres'))('an SQLite store (%s)', (native) => {
  it('has no change notices, and runs cluster work at once', async () => {
    const store = await openDataStore({ path: ':memory:', native });
    try {
      expect(store.watchChanges({ onChange() {}, onResync() {} })).toBeUndefined();
      expect(await store.withClusterLock('sweep', async () => 7)).toEqual({
        status: 'ran',
        value: 7,
      });
      await expect(store.withClusterLock('', async () => 1)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      expect(() => store.watchChanges({} as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT' }),
      );
    } finally {
      await store.close();
    }
  });
});

describe.runIf(storeTargets().includes('postgres'))('a PostgreSQL store', () => {
  let admin: pg.Client;
  let url: string;
  let database: string;

  beforeAll(async () => {
    url = await postgresUrlFor(':memory:');
    database = new URL(url).pathname.slice(1);
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
  });

  /** Backends of this database with the given application_name. */
  async function backends(application: string): Promise<number[]> {
    const { rows } = await admin.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [database, application],
    );
    return rows.map((r) => r.pid);
  }

  async function watched(store: DataStore) {
    const r = recorder();
    const watch = store.watchChanges(r.handlers) as ChangeWatch;
    expect(watch).toBeDefined();
    await expect.poll(() => r.resyncs()).toBe(1);
    expect(watch.live).toBe(true);
    return { ...r, watch };
  }

  it('tells every watcher of the database the seq of each commit that wrote history, at the commit', async () => {
    const a = await openDataStore({ url });
    const b = await openDataStore({ url });
    try {
      const w = await watched(b);
      await a.fragments.put([{ id: 'n1', text: 'one', change: { kind: 'add' } }]);
      const first = await a.fragments.latestChange();
      await expect.poll(() => w.changes()).toEqual([first]);
      // A transaction: nothing before its commit, one notice after it.
      const gate = deferred();
      const inside = deferred();
      const tx = a.transaction(async (t) => {
        await t.fragments.put([{ id: 'n2', text: 'two', change: { kind: 'add' } }]);
        await t.fragments.put([{ id: 'n3', text: 'three', change: { kind: 'add' } }]);
        inside.resolve();
        await gate.promise;
      });
      await inside.promise;
      await pause(100);
      expect(w.changes()).toEqual([first]);
      gate.resolve();
      await tx;
      const latest = await a.fragments.latestChange();
      await expect.poll(() => w.changes().at(-1)).toBe(latest);
      // Rolled back: no notice. Writes without history (events): none either.
      await a
        .transaction(async (t) => {
          await t.fragments.put([{ id: 'n4', text: 'four', change: { kind: 'add' } }]);
          throw new Error('take it back');
        })
        .catch(() => undefined);
      await a.events.add([{ type: 'no.history' }]);
      // Another schema's notice on the same channel is not this store's.
      await admin.query("SELECT pg_notify('aios_changes', 'elsewhere 999')");
      await a.fragments.delete(['n1'], { changes: [{ kind: 'delete' }] });
      const end = await a.fragments.latestChange();
      await expect.poll(() => w.changes().at(-1)).toBe(end);
      expect(w.changes().every((seq) => seq <= end)).toBe(true);
      expect(w.changes()).not.toContain(999);
      await w.watch.close();
      expect(w.watch.live).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('listens on one connection of its own per store, connects again when it is killed, and resyncs', async () => {
    const a = await openDataStore({ url });
    const b = await openDataStore({ url });
    try {
      const one = await watched(b);
      const two = await watched(b);
      const [pid] = await backends('aios-changes');
      expect(await backends('aios-changes')).toHaveLength(1);
      expect(two.resyncs()).toBe(1);
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // Both watchers hear a resync from the new connection (a notice may have been lost).
      await expect.poll(() => [one.resyncs(), two.resyncs()], { timeout: 15_000 }).toEqual([2, 2]);
      expect(one.watch.live).toBe(true);
      const now = await backends('aios-changes');
      expect(now).toHaveLength(1);
      expect(now[0]).not.toBe(pid);
      await a.fragments.put([{ id: 'k1', text: 'after the kill', change: { kind: 'add' } }]);
      const seq = await a.fragments.latestChange();
      await expect.poll(() => one.changes().at(-1)).toBe(seq);
      await expect.poll(() => two.changes().at(-1)).toBe(seq);
      // The connection closes with the last watch, and with the store.
      await one.watch.close();
      expect(await backends('aios-changes')).toHaveLength(1);
      await two.watch.close();
      await expect.poll(() => backends('aios-changes')).toEqual([]);
      await watched(b);
      await b.close();
      await expect.poll(() => backends('aios-changes')).toEqual([]);
      expect(() => b.watchChanges({ onChange() {}, onResync() {} })).toThrow(
        expect.objectContaining({ code: 'DATA_CLOSED' }),
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('installs the notice trigger when a store lacks it', async () => {
    const fresh = await postgresUrlFor(':memory:');
    const name = new URL(fresh).pathname.slice(1);
    const pgServer = await testPostgres();
    await pgServer.sql(name, 'DROP TRIGGER fragment_changes_notify ON fragment_changes');
    const [a, b] = [await openDataStore({ url: fresh }), await openDataStore({ url: fresh })];
    try {
      const w = await watched(b);
      await a.fragments.put([{ id: 't', text: 'noticed', change: { kind: 'add' } }]);
      await expect.poll(() => w.changes()).toEqual([await a.fragments.latestChange()]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('runs work of one name in one store of the database at a time; the others skip it', async () => {
    const a = await openDataStore({ url });
    const b = await openDataStore({ url });
    try {
      const gate = deferred();
      const started = deferred();
      const running = a.withClusterLock('retention', async () => {
        started.resolve();
        await gate.promise;
        return 'a swept';
      });
      await started.promise;
      expect(await backends('aios-lock')).toHaveLength(1);
      let ran = false;
      expect(
        await b.withClusterLock('retention', async () => {
          ran = true;
        }),
      ).toEqual({ status: 'skipped' });
      expect(ran).toBe(false);
      // Another name is other work.
      expect(await b.withClusterLock('compaction', async () => 'b compacted')).toEqual({
        status: 'ran',
        value: 'b compacted',
      });
      gate.resolve();
      expect(await running).toEqual({ status: 'ran', value: 'a swept' });
      await expect.poll(() => backends('aios-lock')).toEqual([]);
      expect(await b.withClusterLock('retention', async () => 'b swept')).toEqual({
        status: 'ran',
        value: 'b swept',
      });
      // A failure is the caller's, and lets go of the lock.
      await expect(
        a.withClusterLock('retention', async () => {
          throw new Error('sweep failed');
        }),
      ).rejects.toThrow('sweep failed');
      expect((await b.withClusterLock('retention', async () => 1)).status).toBe('ran');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
