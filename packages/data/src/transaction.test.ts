import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Sqlite3Wasm from 'node-sqlite3-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_DIALECT } from './dialect.js';
import { APPLICATION_ID, type DataStore, LATEST_SCHEMA_VERSION, MIGRATIONS } from './index.js';
import { MESSAGES_BY_EXCHANGE } from './sql.js';
import { openTestStore, rawSql, storeTargets } from './test-support.js';

const { Database } = createRequire(import.meta.url)('node-sqlite3-wasm') as typeof Sqlite3Wasm;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-tx-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const refused = new Error('refused');

/** A promise and the function that resolves it. */
function deferred() {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A writer with its own queue that writes through the store, as CARMA does. */
class OtherCore {
  private pending: Promise<unknown> = Promise.resolve();
  constructor(private readonly store: DataStore) {}
  write(id: string): Promise<string[]> {
    const run = this.pending.then(() =>
      this.store.fragments.put([{ id, text: `fragment ${id}`, change: { kind: 'add' } }]),
    );
    this.pending = run.catch(() => undefined);
    return run;
  }
}

/** What a feedback writes: a fragment change, a feedback row and a personality version. */
async function everything(store: DataStore) {
  return {
    fragments: await store.fragments.count(),
    history: await store.fragments.latestChange(),
    feedback: (await store.feedback.list()).length,
    personality: (await store.personality.history('luna')).length,
    conversations: await store.conversations.count(),
    messages: await store.messages.count(),
  };
}

describe.each(storeTargets())('store.transaction (%s)', (impl) => {
  let n = 0;
  const open = () => openTestStore(impl, join(dir, `${impl}-${n++}.db`));

  it('commits the writes of every repository together', async () => {
    const store = await open();
    try {
      const other = new OtherCore(store);
      const result = await store.transaction(async (tx) => {
        expect(tx).toBe(store);
        await other.write('f1');
        await tx.conversations.create({ id: 'c' });
        await tx.messages.add([{ conversationId: 'c', role: 'user', content: 'hi' }]);
        await tx.feedback.add([{ conversationId: 'c', rating: 4 }]);
        await tx.personality.save('luna', { traits: 1 });
        return 'done';
      });
      expect(result).toBe('done');
      expect(await everything(store)).toEqual({
        fragments: 1,
        history: 1,
        feedback: 1,
        personality: 1,
        conversations: 1,
        messages: 1,
      });
    } finally {
      await store.close();
    }
  });

  it('leaves nothing when its second half fails, another core’s write included', async () => {
    const store = await open();
    try {
      const other = new OtherCore(store);
      await store.conversations.create({ id: 'c' });
      const before = await everything(store);
      await expect(
        store.transaction(async (tx) => {
          await other.write('f1');
          await tx.feedback.add([{ conversationId: 'c', rating: 2 }]);
          await tx.personality.save('luna', { traits: 1 });
          throw refused;
        }),
      ).rejects.toBe(refused);
      expect(await everything(store)).toEqual(before);
      expect(await store.fragments.get('f1')).toBeUndefined();
      // A write the store refuses fails the transaction just the same.
      await expect(
        store.transaction(async (tx) => {
          await other.write('f2');
          await tx.messages.add([{ conversationId: 'no-such', role: 'user', content: 'x' }]);
        }),
      ).rejects.toMatchObject({ code: 'DATA_CONSTRAINT' });
      expect(await everything(store)).toEqual(before);
      // The store goes on working after a rollback.
      await other.write('f3');
      expect(await store.fragments.count()).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('makes calls from outside wait until it ends', async () => {
    const store = await open();
    try {
      const reached = deferred();
      const gate = deferred();
      const tx = store.transaction(async (t) => {
        await t.feedback.add([{ rating: 5 }]);
        reached.resolve();
        await gate.promise;
        throw refused;
      });
      await reached.promise;
      let outsideDone = false;
      const outside = store.feedback.list().then((rows) => {
        outsideDone = true;
        return rows;
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(outsideDone).toBe(false);
      gate.resolve();
      await expect(tx).rejects.toBe(refused);
      // It ran after the rollback: it never saw the row.
      expect(await outside).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('takes a nested transaction and the atomic writes of a repository as part of it', async () => {
    const store = await open();
    try {
      await expect(
        store.transaction(async (tx) => {
          await tx.transaction(async (inner) => {
            await inner.feedback.add([{ rating: 1 }]);
          });
          // put with owner state is atomic on its own: inside, a savepoint.
          await tx.fragments.put([{ id: 'a', text: 'a' }], { meta: { owner: { v: 1 } } });
          throw refused;
        }),
      ).rejects.toBe(refused);
      expect((await store.feedback.list()).length).toBe(0);
      expect(await store.fragments.count()).toBe(0);
      expect(await store.meta.get('owner')).toBeUndefined();

      // A failed atomic write inside rolls back only itself when the caller goes on.
      await store.transaction(async (tx) => {
        await tx.feedback.add([{ rating: 3 }]);
        await expect(
          tx.fragments.put(
            [
              { id: 'x', text: 'x', vector: new Float32Array([1, 0]) },
              { id: 'y', text: 'y', vector: new Float32Array([1, 0, 0]) },
            ],
            { meta: { owner: { v: 2 } } },
          ),
        ).rejects.toMatchObject({ code: 'DATA_DIMENSION_MISMATCH' });
      });
      expect((await store.feedback.list()).map((f) => f.rating)).toEqual([3]);
      expect(await store.fragments.count()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('refuses what would wait for itself, and bad callbacks', async () => {
    const store = await open();
    try {
      await store.transaction(async (tx) => {
        await tx.feedback.add([{ rating: 5 }]);
        await expect(tx.close()).rejects.toMatchObject({ code: 'DATA_IN_TRANSACTION' });
        await expect(tx.snapshotTo(join(dir, 'copy.db'))).rejects.toMatchObject({
          code: 'DATA_IN_TRANSACTION',
        });
        await expect(tx.importFrom(join(dir, 'x.json'))).rejects.toMatchObject({
          code: 'DATA_IN_TRANSACTION',
        });
      });
      expect((await store.feedback.list()).length).toBe(1);
      await expect(store.transaction('nope' as never)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      // Without a call inside, nothing is begun.
      expect(await store.transaction(async () => 42)).toBe(42);
    } finally {
      await store.close();
    }
  });

  it('sends calls made after it ended (a timer set inside) to the store as usual', async () => {
    const store = await open();
    try {
      let later: Promise<number[]> | undefined;
      const fired = new Promise<void>((resolve) => {
        void store.transaction(async (tx) => {
          await tx.feedback.add([{ rating: 2 }]);
          setTimeout(() => {
            later = store.feedback.add([{ rating: 4 }]);
            resolve();
          }, 10);
        });
      });
      await fired;
      expect(await later).toHaveLength(1);
      expect((await store.feedback.list()).map((f) => f.rating)).toEqual([4, 2]);
    } finally {
      await store.close();
    }
  });

  it('fails with the store closed before it began', async () => {
    const store = await open();
    await store.close();
    await expect(
      store.transaction(async (tx) => {
        await tx.feedback.add([{ rating: 2 }]);
      }),
    ).rejects.toMatchObject({ code: 'DATA_CLOSED' });
  });
});

describe.each(storeTargets())('messages by exchange and feedback deletion (%s)', (impl) => {
  it('finds the messages of an exchange, oldest first, through the index', async () => {
    const store = await openTestStore(impl, join(dir, `${impl}-ex.db`));
    try {
      await store.conversations.create({ id: 'c' });
      await store.conversations.create({ id: 'd' });
      const ids = await store.messages.add([
        { conversationId: 'c', role: 'user', content: 'q1', metadata: { exchangeId: 'e1' } },
        { conversationId: 'c', role: 'assistant', content: 'a1', metadata: { exchangeId: 'e1' } },
        { conversationId: 'd', role: 'user', content: 'q2', metadata: { exchangeId: 'e2' } },
        { conversationId: 'd', role: 'user', content: 'other', metadata: { exchangeId: 7 } },
        { conversationId: 'd', role: 'user', content: 'none' },
      ]);
      const e1 = await store.messages.byExchange('e1');
      expect(e1.map((m) => [m.id, m.content])).toEqual([
        [ids[0], 'q1'],
        [ids[1], 'a1'],
      ]);
      expect((await store.messages.byExchange('e2')).map((m) => m.content)).toEqual(['q2']);
      expect(await store.messages.byExchange('7')).toEqual([]);
      expect(await store.messages.byExchange('nope')).toEqual([]);
      await expect(store.messages.byExchange('')).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    } finally {
      await store.close();
    }
  });

  it.runIf(impl !== 'postgres')('looks an exchange up with one probe of its index', async () => {
    const path = join(dir, `${impl}-plan.db`);
    await (await openTestStore(impl, path)).close();
    const db = new Database(path);
    try {
      db.exec('PRAGMA locking_mode = EXCLUSIVE'); // the wasm build has no shared-memory WAL index
      const plan = db.all(`EXPLAIN QUERY PLAN ${MESSAGES_BY_EXCHANGE}`, ['e']) as {
        detail: string;
      }[];
      expect(plan.map((row) => row.detail)).toEqual([
        expect.stringMatching(/^SEARCH messages USING INDEX messages_exchange/),
      ]);
    } finally {
      db.close();
    }
  });

  it.runIf(impl !== 'postgres')('finds the exchanges Luna wrote before version 4', async () => {
    const path = join(dir, `${impl}-v3.db`);
    const luna = (exchangeId: string, part: string) =>
      JSON.stringify({ luna: { exchangeId, part } }).replaceAll("'", "''");
    rawSql(
      path,
      `${MIGRATIONS.slice(0, 3)
        .map((m) => m.sql)
        .join('\n')}
       INSERT INTO conversations (id, metadata, created_at, updated_at) VALUES ('c', '{}', 1, 1);
       INSERT INTO messages (conversation_id, role, content, metadata, created_at) VALUES
         ('c', 'user', 'q', '${luna('old', 'question')}', 1),
         ('c', 'assistant', 'a', '${luna('old', 'answer')}', 2),
         ('c', 'user', 'plain', '{"k":1}', 3);
       PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = 3;`,
    );
    const store = await openTestStore(impl, path);
    try {
      expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
      const found = await store.messages.byExchange('old');
      expect(found.map((m) => [m.content, m.metadata])).toEqual([
        ['q', { luna: { exchangeId: 'old', part: 'question' }, exchangeId: 'old' }],
        ['a', { luna: { exchangeId: 'old', part: 'answer' }, exchangeId: 'old' }],
      ]);
      expect((await store.messages.list('c'))[2]?.metadata).toEqual({ k: 1 });
    } finally {
      await store.close();
    }
  });

  it.runIf(impl !== 'postgres')(
    'finds the fragments linking to one through the index of linking fragments',
    async () => {
      const path = join(dir, `${impl}-links-plan.db`);
      await (await openTestStore(impl, path)).close();
      const db = new Database(path);
      try {
        db.exec('PRAGMA locking_mode = EXCLUSIVE');
        const plan = db.all(`EXPLAIN QUERY PLAN ${SQLITE_DIALECT.fragmentsLinkingTo}`, ['x']) as {
          detail: string;
        }[];
        expect(plan[0]?.detail).toMatch(/^SCAN fragments USING INDEX fragments_linking/);
      } finally {
        db.close();
      }
    },
  );

  it.runIf(impl !== 'postgres')(
    'indexes the links of fragments written before version 7',
    async () => {
      const path = join(dir, `${impl}-v6.db`);
      rawSql(
        path,
        `${MIGRATIONS.slice(0, 6)
          .map((m) => m.sql)
          .join('\n')}
         INSERT INTO fragments (id, text, created_at, updated_at, attributes) VALUES
           ('a', 'x', 1, 1, '{"links":["b","c"]}'),
           ('b', 'y', 1, 1, '{"links":[]}'),
           ('c', 'z', 1, 1, 'not json');
         PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = 6;`,
      );
      const store = await openTestStore(impl, path);
      try {
        expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
        expect(await store.fragments.linkingTo(['c'])).toEqual(['a']);
        expect(await store.fragments.linkingTo(['a'])).toEqual([]);
      } finally {
        await store.close();
      }
    },
  );

  it('deletes feedback rows by id', async () => {
    const store = await openTestStore(impl, ':memory:');
    try {
      const ids = await store.feedback.add([{ rating: 1 }, { rating: 2 }, { rating: 3 }]);
      expect(await store.feedback.delete([ids[0] as number, ids[2] as number, 999])).toBe(2);
      expect((await store.feedback.list()).map((f) => f.rating)).toEqual([2]);
      expect(await store.feedback.delete([])).toBe(0);
      await expect(store.feedback.delete([0])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(store.feedback.delete(['1' as never])).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    } finally {
      await store.close();
    }
  });
});
