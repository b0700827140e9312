import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPLICATION_ID, type DataStore, MIGRATIONS, openDataStore } from './index.js';
import { openTestStore, rawSql, storeTargets } from './test-support.js';

const T0 = Date.UTC(2025, 0, 1);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-history-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vec = (dim: number, seed: number) =>
  Float32Array.from({ length: dim }, (_, i) => Math.cos(seed * 17 + i) * 0.5);

describe.each(storeTargets())('namespaces, attributes and history (%s)', (impl) => {
  let store: DataStore;
  beforeAll(async () => {
    store = await openTestStore(impl, join(dir, `${impl}.db`));
  });
  afterAll(() => store.close());

  it('keeps namespace and attributes apart from the user metadata', async () => {
    await store.fragments.put([
      {
        id: 'n1',
        namespace: 'notes',
        text: 'first note',
        metadata: { topic: 'a' },
        attributes: { label: 0, importance: 0.5, links: ['n2'] },
        vector: vec(4, 1),
        createdAt: T0,
        updatedAt: T0 + 5,
      },
      { id: 'n2', namespace: 'notes', text: 'second note', vector: vec(4, 2), createdAt: T0 },
      { id: 'd1', text: 'in the default namespace', vector: vec(4, 3), createdAt: T0 },
    ]);
    const n1 = await store.fragments.get('n1');
    expect(n1).toMatchObject({
      namespace: 'notes',
      metadata: { topic: 'a' },
      attributes: { label: 0, importance: 0.5, links: ['n2'] },
      createdAt: T0,
      updatedAt: T0 + 5,
    });
    expect((await store.fragments.get('d1'))?.namespace).toBe('default');
    expect((await store.fragments.get('d1'))?.attributes).toEqual({});
    expect((await store.fragments.list({ namespace: 'notes' })).map((f) => f.id)).toEqual([
      'n1',
      'n2',
    ]);
    expect(
      (await store.fragments.list({ namespace: 'notes', after: 'n1' })).map((f) => f.id),
    ).toEqual(['n2']);
    expect(await store.fragments.list({ namespace: 'nobody' })).toEqual([]);
    expect(await store.fragments.count({ namespace: 'notes' })).toBe(2);
    expect(await store.fragments.count()).toBe(3);
  });

  it('pages through fragments larger than a read buffer, in id order', async () => {
    const big = (i: number) => `${'ü€'.repeat(40_000)} ${i}`;
    const list = Array.from({ length: 12 }, (_, i) => ({
      id: `page-${String(i).padStart(2, '0')}`,
      namespace: 'paged',
      text: i % 3 === 0 ? big(i) : `small ${i}`,
      vector: vec(4, i),
    }));
    await store.fragments.put(list);
    const read = await store.fragments.list({ namespace: 'paged', limit: 100 });
    expect(read.map((f) => f.id)).toEqual(list.map((f) => f.id));
    expect(read.map((f) => f.text)).toEqual(list.map((f) => f.text));
    expect(read.map((f) => f.vector)).toEqual(list.map((f) => f.vector));
    const page = await store.fragments.list({ namespace: 'paged', after: 'page-05', limit: 3 });
    expect(page.map((f) => f.id)).toEqual(['page-06', 'page-07', 'page-08']);
    // Vectors handed out earlier stay intact while later pages reuse the read buffers.
    for (let i = 0; i < 20; i++) await store.fragments.list({ namespace: 'paged', limit: 100 });
    expect(read.map((f) => f.vector)).toEqual(list.map((f) => f.vector));
    expect(await store.fragments.delete(list.map((f) => f.id))).toBe(12);
  });

  it('reads without vectors when asked', async () => {
    const [a] = await store.fragments.getMany(['n1'], { vectors: false });
    expect(a?.vector).toBeNull();
    expect(a?.text).toBe('first note');
    expect((await store.fragments.get('n1', { vectors: false }))?.vector).toBeNull();
    expect((await store.fragments.list({ vectors: false })).every((f) => f.vector === null)).toBe(
      true,
    );
    expect((await store.fragments.get('n1'))?.vector).toEqual(vec(4, 1));
  });

  it('keeps a stored vector and use statistics unless told otherwise', async () => {
    await store.fragments.markUsed(['n2', 'n2'], T0 + 100);
    // keepVectors: no vector given, the stored one stays; use statistics are kept.
    await store.fragments.put([{ id: 'n2', namespace: 'notes', text: 'second note, v2' }], {
      keepVectors: true,
    });
    let n2 = await store.fragments.get('n2');
    expect(n2).toMatchObject({ text: 'second note, v2', useCount: 2, lastUsedAt: T0 + 100 });
    expect(n2?.vector).toEqual(vec(4, 2));
    // Use statistics set explicitly (an importer's); a vector given replaces the stored one.
    await store.fragments.put([
      {
        id: 'n2',
        namespace: 'notes',
        text: 'second note, v3',
        vector: vec(4, 9),
        useCount: 7,
        lastUsedAt: null,
      },
    ]);
    n2 = await store.fragments.get('n2');
    expect(n2).toMatchObject({ useCount: 7, lastUsedAt: null });
    expect(n2?.vector).toEqual(vec(4, 9));
    // Without keepVectors a replace without a vector drops it, as before.
    await store.fragments.put([{ id: 'n2', namespace: 'notes', text: 'no vector now' }]);
    expect((await store.fragments.get('n2'))?.vector).toBeNull();
    await store.fragments.put([{ id: 'n2', namespace: 'notes', text: 'v5', vector: vec(4, 2) }]);
  });

  it('records history with the write, keeps it after a delete, and says what changed', async () => {
    const { seq: start } = await store.fragments.changedSince(0);
    await store.fragments.put([
      {
        id: 'h1',
        text: 'tracked',
        vector: vec(4, 4),
        change: { kind: 'add', data: { version: 1, text: 'tracked' }, at: T0 + 1 },
      },
      {
        id: 'h2',
        text: 'also tracked',
        vector: vec(4, 5),
        change: { kind: 'add', at: T0 + 1 },
      },
    ]);
    await store.fragments.put(
      [{ id: 'h1', text: 'tracked, edited', change: { kind: 'update', data: { version: 2 } } }],
      { keepVectors: true },
    );
    expect(
      await store.fragments.delete(['h1', 'never-there'], {
        changes: [
          { kind: 'delete', data: { version: 3 }, at: T0 + 3 },
          { kind: 'delete', at: T0 + 3 },
        ],
      }),
    ).toBe(1);
    expect(await store.fragments.get('h1')).toBeUndefined();
    const history = await store.fragments.history('h1');
    expect(history.map((c) => [c.kind, c.data])).toEqual([
      ['add', { version: 1, text: 'tracked' }],
      ['update', { version: 2 }],
      ['delete', { version: 3 }],
    ]);
    expect(history[0]).toMatchObject({ fragmentId: 'h1', at: T0 + 1 });
    expect(history[2]?.at).toBe(T0 + 3);
    expect(history.map((c) => c.seq)).toEqual([...history.map((c) => c.seq)].sort((a, b) => a - b));
    // A fragment that did not exist gets no "deleted" entry.
    expect(await store.fragments.history('never-there')).toEqual([]);
    expect((await store.fragments.history('h1', { after: history[0]?.seq, limit: 1 })).length).toBe(
      1,
    );
    const since = await store.fragments.changedSince(start);
    expect(since.ids.sort()).toEqual(['h1', 'h2']);
    expect(since.seq).toBe(history[2]?.seq);
    expect(await store.fragments.latestChange()).toBe(since.seq);
    expect(await store.fragments.changedSince(since.seq)).toEqual({ ids: [], seq: since.seq });
    // Puts without a change leave no history.
    await store.fragments.put([{ id: 'quiet', text: 'no history' }]);
    expect((await store.fragments.changedSince(since.seq)).ids).toEqual([]);
  });

  it('writes extra history rows (an importer) in the same transaction', async () => {
    await store.fragments.put(
      [{ id: 'imp', text: 'imported', vector: vec(4, 6), change: { kind: 'update', at: T0 + 9 } }],
      {
        history: [
          { fragmentId: 'imp', kind: 'add', at: T0 + 8 },
          { fragmentId: 'imp-gone', kind: 'delete', data: { note: 'before import' }, at: T0 + 7 },
        ],
      },
    );
    expect((await store.fragments.history('imp')).map((c) => c.kind)).toEqual(['update', 'add']);
    expect((await store.fragments.history('imp-gone'))[0]?.data).toEqual({ note: 'before import' });
  });

  it('keeps owner state in meta, also written with a batch', async () => {
    expect(await store.meta.get('carma')).toBeUndefined();
    await store.meta.set('carma', { embedder: 'e1', dimension: 4, nested: [1, 'two', null] });
    expect(await store.meta.get('carma')).toEqual({
      embedder: 'e1',
      dimension: 4,
      nested: [1, 'two', null],
    });
    await store.meta.set('counter', 3);
    expect(await store.meta.get('counter')).toBe(3);
    await store.fragments.put([{ id: 'm1', text: 'with state', vector: vec(4, 7) }], {
      meta: { counter: 4, other: 'x' },
    });
    expect(await store.meta.get('counter')).toBe(4);
    expect(await store.meta.get('other')).toBe('x');
    expect(await store.meta.delete('other')).toBe(true);
    expect(await store.meta.delete('other')).toBe(false);
    // A batch that fails leaves the state as it was.
    await expect(
      store.fragments.put([{ id: 'm2', text: 'bad', vector: vec(3, 1) }], { meta: { counter: 5 } }),
    ).rejects.toMatchObject({ code: 'DATA_DIMENSION_MISMATCH' });
    expect(await store.meta.get('counter')).toBe(4);
  });

  it('refuses bad input with codes and writes nothing', async () => {
    const before = await store.fragments.count();
    const { seq } = await store.fragments.changedSince(0);
    const cases: [unknown, unknown, string, RegExp][] = [
      [[{ text: 'x', namespace: '' }], undefined, 'INVALID_INPUT', /fragments\[0\]\.namespace/],
      [[{ text: 'x', namespace: 'n'.repeat(257) }], undefined, 'INVALID_INPUT', /namespace/],
      [[{ text: 'x', attributes: [1] }], undefined, 'INVALID_INPUT', /attributes/],
      [[{ text: 'x', useCount: -1 }], undefined, 'INVALID_INPUT', /useCount/],
      [[{ text: 'x', lastUsedAt: 'today' }], undefined, 'INVALID_INPUT', /lastUsedAt/],
      [[{ text: 'x', updatedAt: 1.5 }], undefined, 'INVALID_INPUT', /updatedAt/],
      [[{ text: 'x', change: { kind: '' } }], undefined, 'INVALID_INPUT', /change\.kind/],
      [[{ text: 'x', change: { kind: 'add', data: 'x' } }], undefined, 'INVALID_INPUT', /data/],
      [[{ text: 'x', change: 'add' }], undefined, 'INVALID_INPUT', /change/],
      [[{ text: 'x' }], { keepVectors: 'yes' }, 'INVALID_INPUT', /keepVectors/],
      [[{ text: 'x' }], { history: [{ kind: 'add' }] }, 'INVALID_INPUT', /fragmentId/],
      [[{ text: 'x' }], { meta: { vector_dimension: 8 } }, 'INVALID_INPUT', /vector_dimension/],
      [[{ text: 'x' }], { meta: { k: Number.NaN } }, 'INVALID_INPUT', /meta\.k/],
    ];
    for (const [input, options, code, message] of cases) {
      await expect(
        store.fragments.put(input as never, options as never),
        JSON.stringify(input),
      ).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    }
    await expect(store.fragments.delete(['n1'], { changes: [] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/one change per id/),
    });
    await expect(
      store.fragments.delete(['n1'], { changes: [{ kind: 7 }] as never }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.fragments.list({ namespace: '' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.fragments.get('n1', { vectors: 1 } as never)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.fragments.changedSince(-1)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.fragments.history('')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    for (const key of ['', 'vector_dimension', 'data.anything', 'k'.repeat(300)]) {
      await expect(store.meta.set(key, 1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(store.meta.get(key)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    await expect(store.meta.set('k', undefined as never)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.meta.set('k', 10n as never)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(await store.fragments.count()).toBe(before);
    expect((await store.fragments.changedSince(seq)).ids).toEqual([]);
    expect(await store.fragments.get('n1')).toMatchObject({ text: 'first note' });
  });

  it('exports and imports the namespaces, attributes and history', async () => {
    const file = join(dir, `${impl}-export.jsonl`);
    const out = await store.exportTo(file);
    expect(out.tables.fragment_changes).toBeGreaterThan(0);
    const copy = await openTestStore(impl, ':memory:');
    await copy.importFrom(file);
    expect(await copy.fragments.get('n1')).toEqual(await store.fragments.get('n1'));
    expect(await copy.fragments.history('h1')).toEqual(await store.fragments.history('h1'));
    expect(await copy.meta.get('carma')).toEqual(await store.meta.get('carma'));
    expect(await copy.fragments.changedSince(0)).toEqual(await store.fragments.changedSince(0));
    await copy.close();
  });
});

describe.each(storeTargets())('replacing every vector at once (%s)', (impl) => {
  it('changes the dimension atomically, or not at all', async () => {
    const store = await openTestStore(impl, join(dir, `${impl}-reembed.db`));
    await store.fragments.put([
      { id: 'a', text: 'a', vector: vec(4, 1) },
      { id: 'b', text: 'b', vector: vec(4, 2) },
      { id: 'c', text: 'no vector' },
    ]);
    // A normal write of another dimension is still refused.
    await expect(
      store.fragments.put([{ id: 'a', text: 'a', vector: vec(8, 1) }]),
    ).rejects.toMatchObject({ code: 'DATA_DIMENSION_MISMATCH' });
    // Leaving out a fragment that has a vector changes nothing.
    await expect(
      store.fragments.replaceVectors([{ id: 'a', vector: vec(8, 1) }]),
    ).rejects.toMatchObject({ code: 'DATA_DIMENSION_MISMATCH', message: /1 fragments/ });
    await expect(
      store.fragments.replaceVectors([
        { id: 'a', vector: vec(8, 1) },
        { id: 'b', vector: vec(8, 2) },
        { id: 'zz', vector: vec(8, 3) },
      ]),
    ).rejects.toMatchObject({ code: 'DATA_NOT_FOUND', message: /zz/ });
    await expect(
      store.fragments.replaceVectors([
        { id: 'a', vector: vec(8, 1) },
        { id: 'b', vector: vec(6, 2) },
      ]),
    ).rejects.toMatchObject({ code: 'DATA_DIMENSION_MISMATCH' });
    await expect(
      store.fragments.replaceVectors([{ id: 'a', vector: Float32Array.of(1, Number.NaN) }]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.fragments.replaceVectors([], { dimension: 8 })).rejects.toMatchObject({
      code: 'DATA_DIMENSION_MISMATCH',
    });
    await expect(store.fragments.replaceVectors([])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(
      store.fragments.replaceVectors([{ id: 'a', vector: vec(4, 1) }], { dimension: 8 }),
    ).rejects.toMatchObject({ code: 'DATA_DIMENSION_MISMATCH' });
    expect(await store.fragments.dimension()).toBe(4);
    expect((await store.fragments.get('a'))?.vector).toEqual(vec(4, 1));

    const n = await store.fragments.replaceVectors(
      [
        { id: 'a', vector: vec(8, 1), change: { kind: 'update', data: { note: 're-embedded' } } },
        { id: 'b', vector: vec(8, 2) },
      ],
      { meta: { embedder: 'wide' } },
    );
    expect(n).toBe(2);
    expect(await store.fragments.dimension()).toBe(8);
    expect((await store.fragments.get('b'))?.vector).toEqual(vec(8, 2));
    expect((await store.fragments.history('a')).map((c) => c.data)).toEqual([
      { note: 're-embedded' },
    ]);
    expect(await store.meta.get('embedder')).toBe('wide');
    await store.fragments.put([{ id: 'd', text: 'd', vector: vec(8, 4) }]);
    await store.close();
    const again = await openTestStore(impl, join(dir, `${impl}-reembed.db`));
    expect(await again.fragments.dimension()).toBe(8);
    await expect(
      again.fragments.put([{ id: 'e', text: 'e', vector: vec(4, 4) }]),
    ).rejects.toMatchObject({ code: 'DATA_DIMENSION_MISMATCH' });
    await again.close();
  });

  it('sets the dimension of a store without vectors', async () => {
    const store = await openTestStore(impl, ':memory:', { vectorDimension: 4 });
    await store.fragments.put([{ id: 'a', text: 'no vector' }]);
    expect(await store.fragments.replaceVectors([], { dimension: 6 })).toBe(0);
    expect(await store.fragments.dimension()).toBe(6);
    await store.fragments.put([{ id: 'b', text: 'b', vector: vec(6, 1) }]);
    await store.close();
  });
});

describe.each(testImplementations())('a version 2 database (%s)', (impl) => {
  it('migrates to version 3 keeping its fragments in the default namespace', async () => {
    const path = join(dir, `${impl}-v2.db`);
    rawSql(
      path,
      `${MIGRATIONS[0]?.sql}${MIGRATIONS[1]?.sql}
       INSERT INTO fragments (id, text, metadata, created_at, updated_at, use_count)
         VALUES ('old', 'from version 2', '{"k":1}', 5, 6, 2);
       PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = 2;`,
    );
    const store = await openTestStore(impl, path);
    expect(await store.schemaVersion()).toBe(MIGRATIONS.at(-1)?.version);
    expect(await store.fragments.get('old')).toMatchObject({
      namespace: 'default',
      attributes: {},
      metadata: { k: 1 },
      useCount: 2,
    });
    expect(await store.fragments.changedSince(0)).toEqual({ ids: [], seq: 0 });
    await store.close();
  });
});

describe('history written by one implementation is read by the other', () => {
  const impls = testImplementations();
  it.runIf(impls.length === 2)('native -> js and js -> native', async () => {
    for (const [writer, reader] of [
      ['native', 'js'],
      ['js', 'native'],
    ] as const) {
      const path = join(dir, `cross-${writer}.db`);
      const w = await openDataStore({ path, native: writer });
      await w.fragments.put(
        [
          {
            id: 'x',
            namespace: 'ns ✓',
            text: 'écrit',
            attributes: { label: 3, links: ['y'] },
            vector: vec(4, 1),
            useCount: 2,
            lastUsedAt: T0,
            change: { kind: 'add', data: { v: 1 } },
          },
        ],
        { meta: { owner: { next: 4 } } },
      );
      await w.fragments.delete(['x'], { changes: [{ kind: 'delete', at: T0 + 1 }] });
      await w.fragments.put([
        { id: 'y', namespace: 'ns ✓', text: 'kept', attributes: { é: true }, vector: vec(4, 2) },
      ]);
      const written = {
        y: await w.fragments.get('y'),
        history: await w.fragments.history('x'),
        since: await w.fragments.changedSince(0),
        meta: await w.meta.get('owner'),
        list: await w.fragments.list({ namespace: 'ns ✓' }),
      };
      await w.close();
      const r = await openDataStore({ path, native: reader });
      expect({
        y: await r.fragments.get('y'),
        history: await r.fragments.history('x'),
        since: await r.fragments.changedSince(0),
        meta: await r.meta.get('owner'),
        list: await r.fragments.list({ namespace: 'ns ✓' }),
      }).toEqual(written);
      await r.close();
    }
  });
});
