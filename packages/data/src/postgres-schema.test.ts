import { AiosError } from '@aios/utils';
import { describe, expect, it } from 'vitest';
import { dropPostgresSchema, openDataStore } from './index.js';
import {
  deferred,
  pendingAfter,
  postgresUrlFor,
  storeTargets,
  testPostgres,
} from './test-support.js';

describe.runIf(storeTargets().includes('postgres'))('PostgreSQL stores in schemas', () => {
  it('keeps stores of one database apart, one per schema, the schema created at the first open', async () => {
    const url = await postgresUrlFor(':memory:');
    const database = new URL(url).pathname.slice(1);
    const base = await openDataStore({ url });
    const a = await openDataStore({ url, schema: 'aios_t_a' });
    const b = await openDataStore({ url, schema: 'aios_t_b' });
    try {
      await a.fragments.put([{ id: 'x', text: 'only in a', change: { kind: 'add', data: null } }]);
      await b.fragments.put([{ id: 'y', text: 'only in b', change: { kind: 'add', data: null } }]);
      await a.tenants.create({ id: 'ta', name: 'ta' });
      expect((await a.fragments.get('x'))?.text).toBe('only in a');
      expect(await b.fragments.get('x')).toBeUndefined();
      expect(await base.fragments.get('x')).toBeUndefined();
      expect(await a.fragments.get('y')).toBeUndefined();
      expect(await b.tenants.get('ta')).toBeUndefined();
      // Each schema has its own change sequence.
      expect((await b.fragments.changedSince(0)).ids).toEqual(['y']);
      expect(await b.schemaVersion()).toBe(await base.schemaVersion());
      const pg = await testPostgres();
      expect(
        await pg.sql(
          database,
          "SELECT count(*) FROM pg_tables WHERE schemaname = 'aios_t_a' AND tablename = 'fragments'",
        ),
      ).toBe('1');
    } finally {
      await Promise.all([base.close(), a.close(), b.close()]);
    }
    // Opened again, a schema's store finds what it held.
    const again = await openDataStore({ url, schema: 'aios_t_a' });
    try {
      expect((await again.fragments.get('x'))?.text).toBe('only in a');
    } finally {
      await again.close();
    }
  });

  it('keeps the search_path after the connection is lost and opened again', async () => {
    const url = await postgresUrlFor(':memory:');
    const a = await openDataStore({ url, schema: 'aios_t_lost' });
    try {
      await a.fragments.put([{ id: 'x', text: 'before' }]);
      const pg = await testPostgres();
      await pg.sql(
        new URL(url).pathname.slice(1),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'aios' AND pid <> pg_backend_pid()",
      );
      // The first call may see the broken connection; the next one reconnects.
      await a.fragments.get('x').catch(() => undefined);
      expect((await a.fragments.get('x'))?.text).toBe('before');
    } finally {
      await a.close();
    }
  });

  it('joins the URL own startup options', async () => {
    const url = await postgresUrlFor(':memory:');
    const withOptions = `${url}?options=${encodeURIComponent('-c statement_timeout=12345')}`;
    const a = await openDataStore({ url: withOptions, schema: 'aios_t_opts' });
    try {
      await a.fragments.put([{ id: 'x', text: 'in opts' }]);
      const plain = await openDataStore({ url, schema: 'aios_t_opts' });
      try {
        expect((await plain.fragments.get('x'))?.text).toBe('in opts');
      } finally {
        await plain.close();
      }
      expect(a.path).not.toContain('search_path');
    } finally {
      await a.close();
    }
  });

  it('drops a schema with everything in it, and says whether there was one', async () => {
    const url = await postgresUrlFor(':memory:');
    const a = await openDataStore({ url, schema: 'aios_t_gone' });
    await a.fragments.put([{ id: 'x', text: 'to be erased' }]);
    await a.close();
    const pg = await testPostgres();
    const password = pg.password;
    const plainUrl = pg.url(new URL(url).pathname.slice(1), { password: null });
    expect(await dropPostgresSchema(plainUrl, { password, schema: 'aios_t_gone' })).toEqual({
      dropped: true,
      checkpointed: true,
    });
    expect(
      await pg.sql(
        new URL(url).pathname.slice(1),
        "SELECT count(*) FROM pg_namespace WHERE nspname = 'aios_t_gone'",
      ),
    ).toBe('0');
    expect(await dropPostgresSchema(plainUrl, { password, schema: 'aios_t_gone' })).toMatchObject({
      dropped: false,
    });
    const reopened = await openDataStore({ url, schema: 'aios_t_gone' });
    try {
      expect(await reopened.fragments.get('x')).toBeUndefined();
    } finally {
      await reopened.close();
    }
  });

  it("lets stores of other schemas write history while one holds its change sequence's lock", async () => {
    const url = await postgresUrlFor(':memory:');
    const a = await openDataStore({ url, schema: 'aios_t_lock_a' });
    const sameSchema = await openDataStore({ url, schema: 'aios_t_lock_a' });
    const other = await openDataStore({ url, schema: 'aios_t_lock_b' });
    try {
      const gate = deferred();
      const inside = deferred();
      const held = a.transaction(async (t) => {
        await t.fragments.put([{ id: 'held', text: 'held', change: { kind: 'add' } }]);
        inside.resolve();
        await gate.promise;
      });
      await inside.promise;
      // Another tenant's schema: its write commits while a's transaction is open.
      await other.fragments.put([{ id: 'free', text: 'free', change: { kind: 'add' } }]);
      expect((await other.fragments.get('free'))?.text).toBe('free');
      // The same schema waits for a's commit (the sequence stays in commit order).
      const queued = sameSchema.fragments.put([
        { id: 'after', text: 'after', change: { kind: 'add' } },
      ]);
      expect(await pendingAfter(queued, 300)).toBe(true);
      gate.resolve();
      await held;
      await queued;
      // The schema's first two seqs, in commit order.
      expect(await sameSchema.fragments.changedSince(1)).toEqual({ ids: ['after'], seq: 2 });
    } finally {
      await Promise.all([a.close(), sameSchema.close(), other.close()]);
    }
  });

  it('refuses a schema name that is not a plain identifier, and a schema for SQLite', async () => {
    const url = await postgresUrlFor(':memory:');
    for (const schema of ['Upper', 'a;drop', '1x', 'pg_catalog', 'x'.repeat(64), '']) {
      const error = await openDataStore({ url, schema }).catch((e: unknown) => e);
      expect(error, schema).toBeInstanceOf(AiosError);
      expect((error as AiosError).code).toBe('INVALID_INPUT');
    }
    const error = await dropPostgresSchema(url, { schema: 'a b' }).catch((e: unknown) => e);
    expect((error as AiosError).code).toBe('INVALID_INPUT');
    const sqlite = await openDataStore({ path: ':memory:', schema: 'x' }).catch((e: unknown) => e);
    expect((sqlite as AiosError).code).toBe('INVALID_INPUT');
  });
});
