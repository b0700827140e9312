import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type DataStore, LATEST_SCHEMA_VERSION, openDataStore } from './index.js';
import { POSTGRES_DIALECT } from './postgres/dialect.js';
import { POSTGRES_MIGRATIONS } from './postgres/sql.js';
import {
  deferred,
  pendingAfter,
  postgresUrlFor,
  storeTargets,
  testPostgres,
} from './test-support.js';

const here = dirname(fileURLToPath(import.meta.url));
const SECRET = 'test-postgres-password';

it('has a PostgreSQL migration up to every SQLite schema version', () => {
  expect(POSTGRES_MIGRATIONS.at(-1)?.version).toBe(LATEST_SCHEMA_VERSION);
});

describe.runIf(storeTargets().includes('postgres'))('a PostgreSQL store', () => {
  it('is shared by stores on one database, each seeing what the other committed', async () => {
    const url = await postgresUrlFor(':memory:');
    const a = await openDataStore({ url });
    const b = await openDataStore({ url });
    try {
      expect(a.database).toBe('postgres');
      expect(a.path).not.toContain(SECRET);
      expect(a.path).toMatch(/^postgres:\/\/aios@127\.0\.0\.1:\d+\/\w+$/);
      await a.fragments.put([{ id: 'x', text: 'from a', vector: Float32Array.of(1, 2) }]);
      expect((await b.fragments.get('x'))?.vector).toEqual(Float32Array.of(1, 2));
      expect(await b.fragments.dimension()).toBe(2);
      await b.conversations.create({ id: 'c' });
      await b.messages.add([{ conversationId: 'c', role: 'user', content: 'from b' }]);
      expect((await a.messages.list('c')).map((m) => m.content)).toEqual(['from b']);
      // A transaction's writes are seen by the other store at its commit, not before.
      const gate = deferred();
      const inside = deferred();
      const tx = a.transaction(async (t) => {
        await t.events.add([{ type: 'tx' }]);
        inside.resolve();
        await gate.promise;
      });
      await inside.promise;
      expect(await b.events.count()).toBe(0);
      gate.resolve();
      await tx;
      expect(await b.events.count()).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('hands out the change sequence in commit order: a follower never skips a change', async () => {
    const url = await postgresUrlFor(':memory:');
    const [a, b, follower] = await Promise.all([0, 1, 2].map(() => openDataStore({ url })));
    const stores = [a, b] as DataStore[];
    try {
      // a takes a seq and holds its transaction open; b's change must wait for a's commit,
      // so b's seq is higher and becomes visible after a's.
      const gate = deferred();
      const inside = deferred();
      const first = a?.transaction(async (t) => {
        await t.fragments.put([{ id: 'first', text: '1', change: { kind: 'add' } }]);
        inside.resolve();
        await gate.promise;
      });
      await inside.promise;
      const second = b?.fragments.put([{ id: 'second', text: '2', change: { kind: 'add' } }]);
      expect(await pendingAfter(second as Promise<unknown>, 300)).toBe(true);
      expect(await follower?.fragments.changedSince(0)).toEqual({ ids: [], seq: 0 });
      gate.resolve();
      await first;
      await second;
      expect((await follower?.fragments.history('first'))?.[0]?.seq).toBe(1);
      expect((await follower?.fragments.history('second'))?.[0]?.seq).toBe(2);

      // Writers at once, a follower reading `seq > last` all along: every change is seen,
      // and the seqs have no gap, a rolled-back writer's included.
      await expect(
        a?.transaction(async (t) => {
          await t.fragments.put([{ id: 'undone', text: 'x', change: { kind: 'add' } }]);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      const seen = new Set<string>(['first', 'second']);
      let last = 2;
      let writing = true;
      const following = (async () => {
        while (writing) {
          const changed = (await follower?.fragments.changedSince(last)) as {
            ids: string[];
            seq: number;
          };
          for (const id of changed.ids) seen.add(id);
          last = changed.seq;
        }
      })();
      const written: string[] = [];
      await Promise.all(
        stores.map(async (store, who) => {
          for (let round = 0; round < 15; round++) {
            const ids = [0, 1, 2].map((i) => `w${who}-${round}-${i}`);
            await store.fragments.put(ids.map((id) => ({ id, text: id, change: { kind: 'add' } })));
            written.push(...ids);
          }
        }),
      );
      writing = false;
      await following;
      const changed = await follower?.fragments.changedSince(last);
      for (const id of changed?.ids ?? []) seen.add(id);
      expect([...seen].sort()).toEqual(['first', 'second', ...written].sort());
      const seqs: number[] = [];
      for (const id of ['first', 'second', ...written]) {
        for (const c of (await follower?.fragments.history(id)) ?? []) seqs.push(c.seq);
      }
      expect(seqs.sort((x, y) => x - y)).toEqual(seqs.map((_, i) => i + 1));
    } finally {
      for (const s of [a, b, follower]) await s?.close();
    }
  });

  it('migrates once when several processes open a new database together', async () => {
    const pg = await testPostgres();
    const name = await pg.createDatabase();
    const stores = await Promise.all([0, 1, 2, 3].map(() => openDataStore({ url: pg.url(name) })));
    for (const s of stores) expect(await s.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
    for (const s of stores) await s.close();
    // One row per migration: none ran twice.
    expect(await pg.sql(name, 'SELECT count(*) FROM schema_migrations')).toBe(
      String(POSTGRES_MIGRATIONS.length),
    );
  });

  it('finds the fragments linking to one through the index of linking fragments', async () => {
    const pg = await testPostgres();
    const name = await pg.createDatabase();
    await (await openDataStore({ url: pg.url(name) })).close();
    // A small table may be scanned whatever its indexes; told not to, the planner must find
    // that the query's conditions imply the partial index's.
    const query = POSTGRES_DIALECT.fragmentsLinkingTo.replace('?1', "'x'");
    const plan = await pg.sql(name, `SET enable_seqscan = off; EXPLAIN ${query}`);
    expect(plan).toMatch(/Index Scan (using|on) fragments_linking/);
  });

  it('refuses a bad URL, a server that is down, a wrong password, a missing or foreign database, with codes and no password shown', async () => {
    const pg = await testPostgres();
    const failure = async (options: Parameters<typeof openDataStore>[0]) => {
      const error = await openDataStore(options).then(
        async (store) => {
          await store.close();
          throw new Error('opened');
        },
        (e: unknown) => e as { code: string; message: string; stack?: string },
      );
      expect(error.message).not.toContain(SECRET);
      expect(JSON.stringify(error)).not.toContain(SECRET);
      return error;
    };
    expect(await failure({ url: `postgres://aios:${SECRET}@/` })).toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('postgres://aios:****@/'),
    });
    expect(await failure({ url: `postgres://aios:${SECRET}@127.0.0.1:1/aios` })).toMatchObject({
      code: 'DATA_UNREACHABLE',
      message: expect.stringContaining('postgres://aios@127.0.0.1:1/aios'),
    });
    expect(
      await failure({ url: pg.url('postgres', { password: `${SECRET}-wrong` }) }),
    ).toMatchObject({
      code: 'DATA_AUTH_FAILED',
    });
    expect(
      await failure({ url: pg.url('postgres', { password: null }), password: 'nope' }),
    ).toMatchObject({
      code: 'DATA_AUTH_FAILED',
    });
    expect(await failure({ url: pg.url('no_such_database') })).toMatchObject({
      code: 'DATA_DATABASE_MISSING',
    });
    const foreign = await pg.createDatabase();
    await pg.sql(foreign, 'CREATE TABLE notes (body text)');
    expect(await failure({ url: pg.url(foreign) })).toMatchObject({
      code: 'DATA_FOREIGN_DATABASE',
    });
    const newer = await pg.createDatabase();
    await (await openDataStore({ url: pg.url(newer) })).close();
    await pg.sql(newer, "INSERT INTO schema_migrations VALUES (99, 'future', 0)");
    expect(await failure({ url: pg.url(newer) })).toMatchObject({
      code: 'DATA_SCHEMA_TOO_NEW',
      message: expect.stringContaining('99'),
    });
    // The password may come apart from the URL (as the config keeps it).
    const apart = await openDataStore({
      url: pg.url(newer.replace(/.*/, 'postgres'), { password: null }),
      password: SECRET,
    }).catch((e: unknown) => e);
    expect(apart).toMatchObject({ database: 'postgres' });
    await (apart as DataStore).close();
  });

  it('says what it cannot do, checks its indexes, compacts, and opens the connection again after a restart', async () => {
    const pg = await testPostgres();
    const store = await openDataStore({ url: await postgresUrlFor(':memory:') });
    try {
      await expect(store.snapshotTo(join(here, 'never.db'))).rejects.toMatchObject({
        code: 'DATA_NOT_SUPPORTED',
      });
      expect(await store.integrityCheck()).toBe('ok');
      await store.fragments.put([{ id: 'a', text: 'a', namespace: 'n' }]);
      await store.fragments.eraseNamespace('n');
      expect(await store.compact()).toMatchObject({ checkpointed: true });
      // A failed statement inside a transaction: the rest of it fails with a code.
      await expect(
        store.transaction(async (t) => {
          await t.conversations.create({ id: 'dup' });
          await t.conversations.create({ id: 'dup' }).catch(() => undefined);
          await t.conversations.create({ id: 'other' });
        }),
      ).rejects.toMatchObject({ code: 'DATA_TRANSACTION_ABORTED' });
      expect(await store.conversations.count()).toBe(0);

      await pg.stop('fast');
      await expect(store.fragments.count()).rejects.toMatchObject({ code: 'DATA_UNREACHABLE' });
      await pg.start();
      expect(await store.fragments.count()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('exports to and imports from SQLite: one schema, column for column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aios-pg-transfer-'));
    const pgStore = await openDataStore({ url: await postgresUrlFor(':memory:') });
    const sqlite = await openDataStore({ path: join(dir, 'a.db'), native: 'js' });
    try {
      await sqlite.fragments.put([
        {
          id: 'é',
          namespace: 'n',
          text: 'from SQLite',
          attributes: { label: 1 },
          vector: Float32Array.of(0.5, -1),
          change: { kind: 'add', data: { v: 1 } },
        },
      ]);
      await sqlite.conversations.create({ id: 'c' });
      await sqlite.messages.add([{ conversationId: 'c', role: 'user', content: 'hi' }]);
      await sqlite.feedback.add([{ conversationId: 'c', rating: 4.5 }]);
      await sqlite.audit.append([{ action: 'a', outcome: 'ok' }]);
      await sqlite.exportTo(join(dir, 'sqlite.jsonl'));
      await pgStore.importFrom(join(dir, 'sqlite.jsonl'));
      expect(await pgStore.fragments.get('é')).toEqual(await sqlite.fragments.get('é'));
      expect(await pgStore.fragments.history('é')).toEqual(await sqlite.fragments.history('é'));
      expect(await pgStore.messages.list('c')).toEqual(await sqlite.messages.list('c'));
      expect(await pgStore.audit.verify()).toEqual({ ok: true, entries: 1 });
      // Ids and seqs taken after the import continue after the imported ones.
      expect(await pgStore.feedback.add([{ rating: 2 }])).toEqual([2]);
      await pgStore.fragments.put([{ id: 'x', text: 'after', change: { kind: 'add' } }]);
      expect((await pgStore.fragments.history('x'))[0]?.seq).toBe(2);
      await pgStore.exportTo(join(dir, 'pg.json'));
      const back = await openDataStore({ path: ':memory:', native: 'js' });
      await back.importFrom(join(dir, 'pg.json'));
      expect(await back.fragments.get('x')).toEqual(await pgStore.fragments.get('x'));
      expect(await back.feedback.list()).toEqual(await pgStore.feedback.list());
      await back.close();
    } finally {
      await pgStore.close();
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not loaded by a user of SQLite only', () => {
    // A child process opens an SQLite store through the built package and reports whether
    // node-postgres was loaded; then it opens a postgres:// URL, which loads it.
    const script = `
      import { createRequire } from 'node:module';
      const { openDataStore } = await import(${JSON.stringify(join(here, '..', 'dist', 'index.js'))});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\\\/]node_modules[\\\\/]pg[\\\\/]/.test(k));
      const store = await openDataStore({ path: ':memory:' });
      await store.fragments.put([{ text: 'x' }]);
      await store.close();
      const before = loaded();
      await openDataStore({ url: 'postgres://aios@127.0.0.1:1/aios', connectTimeoutMs: 1000 }).catch(() => {});
      console.log(JSON.stringify({ before, after: loaded() }));
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout.trim())).toEqual({ before: false, after: true });
  });
});
