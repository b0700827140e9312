import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataStore, LATEST_SCHEMA_VERSION, openDataStore } from './index.js';
import { openTestStore, rawSql, storeTargets } from './test-support.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 1); // 2025-01-01

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aios-data-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vec = (dim: number, seed: number) =>
  Float32Array.from({ length: dim }, (_, i) => Math.sin(seed * 31 + i) * 0.5);

/** A small fixed dataset whose aggregates are known exactly. */
async function seed(store: DataStore) {
  await store.fragments.put([
    { id: 'f1', text: 'the cat sat', vector: vec(4, 1), createdAt: T0, metadata: { tag: 'a' } },
    { id: 'f2', text: 'on the mat', vector: vec(4, 2), createdAt: T0 + 1000 },
    { id: 'f3', text: 'no vector here', createdAt: T0 + DAY },
  ]);
  await store.fragments.markUsed(['f2', 'f2', 'f1'], T0 + 5000);
  const c1 = await store.conversations.create({ id: 'c1', title: 'first', createdAt: T0 });
  await store.conversations.create({ id: 'c2', createdAt: T0 + DAY });
  const ids = await store.messages.add([
    { conversationId: c1.id, role: 'user', content: 'hello', createdAt: T0 + 10 },
    {
      conversationId: 'c1',
      role: 'assistant',
      content: 'hi!',
      model: 'm-small',
      promptTokens: 10,
      completionTokens: 5,
      createdAt: T0 + 20,
    },
    { conversationId: 'c2', role: 'user', content: 'again', createdAt: T0 + DAY + 10 },
    {
      conversationId: 'c2',
      role: 'assistant',
      content: 'yes',
      model: 'm-large',
      promptTokens: 100,
      completionTokens: 50,
      createdAt: T0 + DAY + 20,
    },
  ]);
  await store.feedback.add([
    { conversationId: 'c1', messageId: ids[1], rating: 5, createdAt: T0 + 30 },
    { conversationId: 'c2', messageId: ids[3], rating: 2, comment: 'meh', createdAt: T0 + DAY },
    { rating: 3.5, createdAt: T0 + DAY + 5 },
  ]);
  await store.events.add([
    { type: 'latency.ms', value: 12, createdAt: T0 },
    { type: 'latency.ms', value: 30, createdAt: T0 + 1 },
    { type: 'chat.turn', data: { ok: true }, createdAt: T0 + DAY },
  ]);
  await store.personality.save('luna', { warmth: 0.5 }, T0);
  await store.personality.save('luna', { warmth: 0.7 }, T0 + 1);
  return ids;
}

describe.each(storeTargets())('data store (%s)', (impl) => {
  let store: DataStore;
  const sqlite = impl !== 'postgres';
  beforeAll(async () => {
    store = await openTestStore(impl, join(dir, `${impl}-main.db`));
    await seed(store);
  });
  afterAll(() => store.close());

  it('runs the requested implementation at the latest schema', async () => {
    expect(store.implementation).toBe(sqlite ? impl : 'js');
    expect(store.database).toBe(sqlite ? 'sqlite' : 'postgres');
    expect(store.report.core).toBe('@aios/data');
    expect(await store.schemaVersion()).toBe(LATEST_SCHEMA_VERSION);
  });

  it.skipIf(!sqlite)(
    'creates databases of 8 KiB pages and keeps the pages of one it finds',
    async () => {
      /** The page size a SQLite file's header names (bytes 16-17, big-endian; 1 is 64 KiB). */
      const pageSize = (path: string) => readFileSync(path).readUInt16BE(16);
      const fresh = join(dir, `${impl}-pages-new.db`);
      const created = await openTestStore(impl, fresh);
      await created.fragments.put([{ id: 'p1', text: 'a page of its own', vector: vec(384, 1) }]);
      await created.close();
      expect(pageSize(fresh)).toBe(8192);
      // A database with 4 KiB pages already (an earlier version's): kept as it is, and used.
      const older = join(dir, `${impl}-pages-old.db`);
      rawSql(older, 'PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;');
      const reopened = await openTestStore(impl, older);
      const rows = Array.from({ length: 50 }, (_, i) => ({
        id: `o${i}`,
        text: `row ${i}`,
        vector: vec(384, i),
      }));
      await reopened.fragments.put(rows);
      expect((await reopened.fragments.get('o49'))?.vector).toEqual(vec(384, 49));
      await reopened.close();
      expect(pageSize(older)).toBe(4096);
    },
  );

  it('reads fragments back with their vectors, metadata and use counts', async () => {
    const [f1, f3, f2] = await store.fragments.getMany(['f1', 'f3', 'nope', 'f2']);
    expect(f1?.vector).toEqual(vec(4, 1));
    expect(f1?.vector).toBeInstanceOf(Float32Array);
    expect(f1?.metadata).toEqual({ tag: 'a' });
    expect(f1?.useCount).toBe(1);
    expect(f2?.useCount).toBe(2);
    expect(f2?.lastUsedAt).toBe(T0 + 5000);
    expect(f3?.vector).toBeNull();
    expect(f3?.lastUsedAt).toBeNull();
    expect(await store.fragments.get('missing')).toBeUndefined();
    expect(await store.fragments.count()).toBe(3);
    expect(await store.fragments.dimension()).toBe(4);
    expect((await store.fragments.list({ limit: 2 })).map((f) => f.id)).toEqual(['f1', 'f2']);
    expect((await store.fragments.list({ after: 'f2' })).map((f) => f.id)).toEqual(['f3']);
  });

  it('finds the fragments whose links name an id, through the index of linking fragments', async () => {
    const quoted = 'id "with" quotes\\';
    await store.fragments.put([
      { id: 'm1', text: 'a', attributes: { links: ['k-1', 'k-2'] }, createdAt: T0 },
      { id: 'm2', text: 'b', attributes: { links: ['k-2', quoted] }, createdAt: T0 },
      { id: 'm3', text: 'c', attributes: { links: [], note: 'k-1' }, createdAt: T0 },
      { id: 'm4', text: 'd', attributes: { note: 'k-1', other: ['k-1'] }, createdAt: T0 },
      { id: 'm5', text: 'e', attributes: { links: 'k-1' }, createdAt: T0 },
    ]);
    try {
      expect((await store.fragments.linkingTo(['k-1'])).sort()).toEqual(['m1']);
      expect((await store.fragments.linkingTo(['k-2', 'k-1'])).sort()).toEqual(['m1', 'm2']);
      expect(await store.fragments.linkingTo([quoted])).toEqual(['m2']);
      // A prefix of a linked id is not a link to it.
      expect(await store.fragments.linkingTo(['k-'])).toEqual([]);
      expect(await store.fragments.linkingTo(['k-9'])).toEqual([]);
      expect(await store.fragments.linkingTo([])).toEqual([]);
      // Unlinked, a fragment is no longer found.
      await store.fragments.put([
        { id: 'm1', text: 'a', attributes: { links: ['k-2'] }, createdAt: T0 },
      ]);
      expect(await store.fragments.linkingTo(['k-1'])).toEqual([]);
      await expect(store.fragments.linkingTo('k-1' as unknown as string[])).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(store.fragments.linkingTo([7 as unknown as string])).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    } finally {
      await store.fragments.delete(['m1', 'm2', 'm3', 'm4', 'm5']);
    }
  });

  it('reads back non-ASCII text and fragments larger than a read buffer', async () => {
    const big = 'ü€'.repeat(60_000);
    const meta = { note: 'café ☕', n: 1 };
    await store.fragments.put([
      { id: 'big', text: big, metadata: meta, vector: vec(4, 7), createdAt: T0 },
      { id: 'ünï', text: 'plain', createdAt: T0 },
    ]);
    const one = await store.fragments.get('big');
    expect(one?.text).toBe(big);
    expect(one?.metadata).toEqual(meta);
    expect(one?.vector).toEqual(vec(4, 7));
    const many = await store.fragments.getMany(['ünï', 'big', 'f1', 'big', 'nope']);
    expect(many.map((f) => f.id)).toEqual(['ünï', 'big', 'f1', 'big']);
    expect(many[1]?.text).toBe(big);
    expect(many[3]?.vector).toEqual(vec(4, 7));
    expect(many[2]?.vector).toEqual(vec(4, 1));
    expect(many[0]?.vector).toBeNull();
    // Vectors read earlier stay intact while later reads go through the same buffers.
    const kept = await Promise.all(['f1', 'f2', 'big'].map((id) => store.fragments.get(id)));
    for (let i = 0; i < 300; i++) await store.fragments.getMany(['f2', i % 50 ? 'f1' : 'big']);
    expect(kept.map((f) => f?.vector)).toEqual([vec(4, 1), vec(4, 2), vec(4, 7)]);
    expect(await store.fragments.delete(['big', 'ünï'])).toBe(2);
  });

  it('replaces a fragment by id, keeping its creation time and uses', async () => {
    await store.fragments.put([{ id: 'f9', text: 'v1', createdAt: T0 + 2 * DAY }]);
    await store.fragments.markUsed(['f9']);
    await store.fragments.put([
      { id: 'f9', text: 'v2', vector: vec(4, 9), createdAt: T0 + 3 * DAY },
    ]);
    const f = await store.fragments.get('f9');
    expect(f).toMatchObject({ text: 'v2', createdAt: T0 + 2 * DAY, updatedAt: T0 + 3 * DAY });
    expect(f?.useCount).toBe(1);
    expect(await store.fragments.delete(['f9', 'zz'])).toBe(1);
  });

  it('records uses in bulk: counts added, the latest time kept, unknown ids counting none', async () => {
    await store.fragments.put([
      { id: 'u1', text: 'one', createdAt: T0 },
      { id: 'u2', text: 'two', createdAt: T0 },
    ]);
    const uses = [
      { id: 'u1', count: 3, at: T0 + 50 },
      { id: 'u2', at: T0 + 70 },
      { id: 'nope', count: 9, at: T0 },
    ];
    expect(await store.fragments.recordUses(uses)).toBe(4);
    // Written late (an older access): counted, the time stays the latest.
    expect(await store.fragments.recordUses([{ id: 'u1', count: 2, at: T0 + 10 }])).toBe(2);
    const [u1, u2] = await store.fragments.getMany(['u1', 'u2']);
    expect([u1?.useCount, u1?.lastUsedAt, u2?.useCount, u2?.lastUsedAt]).toEqual([
      5,
      T0 + 50,
      1,
      T0 + 70,
    ]);
    expect(await store.fragments.recordUses([])).toBe(0);
    await expect(store.fragments.recordUses([{ id: 'u1', count: -1 }])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.fragments.recordUses([{ count: 1 } as never])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect((await store.fragments.get('u1'))?.useCount).toBe(5);
    expect(await store.fragments.delete(['u1', 'u2'])).toBe(2);
  });

  it('keeps conversations, messages, feedback, personality and events', async () => {
    expect(await store.conversations.get('c1')).toMatchObject({ title: 'first', createdAt: T0 });
    expect((await store.conversations.get('c1'))?.updatedAt).toBe(T0 + 20);
    expect((await store.conversations.list()).map((c) => c.id)).toEqual(['c2', 'c1']);
    const msgs = await store.messages.list('c1');
    expect(msgs.map((m) => [m.role, m.content, m.model])).toEqual([
      ['user', 'hello', null],
      ['assistant', 'hi!', 'm-small'],
    ]);
    expect(await store.messages.count()).toBe(4);
    const fb = await store.feedback.list();
    expect(fb.map((f) => f.rating)).toEqual([3.5, 2, 5]);
    expect(fb[1]).toMatchObject({ conversationId: 'c2', comment: 'meh' });
    expect((await store.personality.latest('luna'))?.state).toEqual({ warmth: 0.7 });
    expect((await store.personality.history('luna')).length).toBe(2);
    expect(await store.personality.latest('nobody')).toBeUndefined();
    const events = await store.events.list({ type: 'chat.turn' });
    expect(events).toEqual([
      { id: 3, type: 'chat.turn', value: null, data: { ok: true }, createdAt: T0 + DAY },
    ]);
    expect(await store.events.count()).toBe(3);
  });

  it('computes the analytics in the database', async () => {
    const a = store.analytics;
    const range = { from: T0, to: T0 + 2 * DAY };
    expect(await a.messagesPerDay(range)).toEqual([
      { day: '2025-01-01', messages: 2, conversations: 1 },
      { day: '2025-01-02', messages: 2, conversations: 1 },
    ]);
    expect(await a.tokensPerModel(range)).toEqual([
      { model: 'm-large', messages: 1, promptTokens: 100, completionTokens: 50, totalTokens: 150 },
      { model: 'm-small', messages: 1, promptTokens: 10, completionTokens: 5, totalTokens: 15 },
      { model: null, messages: 2, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    ]);
    const perDay = await a.tokensPerDay(range);
    expect(perDay.filter((r) => r.model !== null)).toEqual([
      {
        day: '2025-01-01',
        model: 'm-small',
        messages: 1,
        promptTokens: 10,
        completionTokens: 5,
        totalTokens: 15,
      },
      {
        day: '2025-01-02',
        model: 'm-large',
        messages: 1,
        promptTokens: 100,
        completionTokens: 50,
        totalTokens: 150,
      },
    ]);
    expect(await a.memoryGrowth(range)).toEqual([
      { day: '2025-01-01', added: 2, total: 2 },
      { day: '2025-01-02', added: 1, total: 3 },
    ]);
    expect(await a.memoryGrowth({ from: T0 + DAY, to: T0 + 2 * DAY })).toEqual([
      { day: '2025-01-02', added: 1, total: 3 },
    ]);
    expect((await a.topFragments(2)).map((f) => [f.id, f.useCount])).toEqual([
      ['f2', 2],
      ['f1', 1],
    ]);
    expect(await a.feedbackSummary(range)).toEqual({
      count: 3,
      average: (5 + 2 + 3.5) / 3,
      min: 2,
      max: 5,
    });
    expect(await a.feedbackSummary({ from: 0, to: 1 })).toEqual({
      count: 0,
      average: null,
      min: null,
      max: null,
    });
    expect(await a.feedbackPerDay(range)).toEqual([
      { day: '2025-01-01', count: 1, average: 5, min: 5, max: 5 },
      { day: '2025-01-02', count: 2, average: 2.75, min: 2, max: 3.5 },
    ]);
    expect(await a.eventsPerDay({ ...range, type: 'latency.ms' })).toEqual([
      { day: '2025-01-01', type: 'latency.ms', count: 2, sum: 42, average: 21, min: 12, max: 30 },
    ]);
    expect((await a.eventsPerDay(range)).length).toBe(2);
  });

  it('refuses bad input with a code and writes nothing', async () => {
    const before = await store.fragments.count();
    const cases: [unknown, string, RegExp][] = [
      ['nope', 'INVALID_INPUT', /fragments: expected an array/],
      [[{ text: 42 }], 'INVALID_INPUT', /fragments\[0\]\.text/],
      [[{}], 'INVALID_INPUT', /fragments\[0\]\.text/],
      [[{ text: 'ok' }, { text: 'x', vector: [1, 2, 3, 4] }], 'INVALID_INPUT', /Float32Array/],
      [[{ text: 'ok' }, { text: 'x', vector: vec(3, 1) }], 'DATA_DIMENSION_MISMATCH', /4/],
      [
        [{ text: 'ok' }, { text: 'x', vector: Float32Array.of(1, Number.NaN, 0, 0) }],
        'INVALID_INPUT',
        /vector\[1\]/,
      ],
      [[{ text: 'x', metadata: [1] }], 'INVALID_INPUT', /metadata/],
      [[{ text: 'x', createdAt: 'yesterday' }], 'INVALID_INPUT', /createdAt/],
      [[{ text: 'x'.repeat(17 * 1024 * 1024) }], 'DATA_ROW_TOO_LARGE', /maxRowBytes/],
    ];
    for (const [input, code, message] of cases) {
      await expect(store.fragments.put(input as never)).rejects.toMatchObject({
        code,
        message: expect.stringMatching(message),
      });
    }
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(store.fragments.put([{ text: 'x', metadata: circular }])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(await store.fragments.count()).toBe(before);

    const messages = await store.messages.count();
    await expect(
      store.messages.add([
        { conversationId: 'c1', role: 'user', content: 'fine' },
        { conversationId: 'c1', role: 'robot' as never, content: 'bad role' },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/role/) });
    // A row that only the database can refuse (unknown conversation) rolls back the batch.
    await expect(
      store.messages.add([
        { conversationId: 'c1', role: 'user', content: 'fine' },
        { conversationId: 'no-such', role: 'user', content: 'orphan' },
      ]),
    ).rejects.toMatchObject({ code: 'DATA_CONSTRAINT', message: expect.stringMatching(/row 1/) });
    await expect(
      store.messages.add([{ conversationId: 'c1', role: 'user', content: 'x', promptTokens: -1 }]),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await store.messages.count()).toBe(messages);

    await expect(store.feedback.add([{ rating: 6 }])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.events.add([{ type: 'x', value: Number.NaN }])).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.conversations.create({ id: 'c1' })).rejects.toMatchObject({
      code: 'DATA_CONSTRAINT',
    });
    await expect(store.analytics.messagesPerDay({ from: 'x' as never })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('exports and imports all data as JSON and JSONL', async () => {
    for (const format of ['json', 'jsonl'] as const) {
      const file = join(dir, `${impl}-export.${format}`);
      const out = await store.exportTo(file);
      expect(out.format).toBe(format);
      expect(out.tables).toMatchObject({ fragments: 3, messages: 4, conversations: 2, events: 3 });
      const copy = await openTestStore(impl, ':memory:');
      const back = await copy.importFrom(file);
      expect(back.tables).toMatchObject({ fragments: 3, messages: 4, feedback: 3 });
      expect(await copy.fragments.get('f1')).toEqual(await store.fragments.get('f1'));
      expect(await copy.analytics.tokensPerModel()).toEqual(await store.analytics.tokensPerModel());
      expect(await copy.personality.history('luna')).toEqual(
        await store.personality.history('luna'),
      );
      expect(await copy.fragments.dimension()).toBe(4);
      // A second import collides on every id: nothing is written, the error says so.
      await expect(copy.importFrom(file)).rejects.toMatchObject({ code: 'DATA_CONSTRAINT' });
      expect(await copy.messages.count()).toBe(4);
      // ...unless asked to replace.
      await copy.importFrom(file, { replace: true });
      expect(await copy.messages.count()).toBe(4);
      await copy.close();
    }
  });

  it('refuses a broken export without writing anything', async () => {
    const copy = await openTestStore(impl, ':memory:');
    const file = join(dir, `${impl}-bad.jsonl`);
    const lines = readFileSync(join(dir, `${impl}-export.jsonl`), 'utf8')
      .trim()
      .split('\n');
    writeFileSync(file, `${[...lines, '{"table":"nope","row":{}}'].join('\n')}\n`);
    await expect(copy.importFrom(file)).rejects.toMatchObject({ code: 'DATA_IMPORT_INVALID' });
    writeFileSync(file, `${[...lines, '{"table":"events","row":{"evil":1}}'].join('\n')}\n`);
    await expect(copy.importFrom(file)).rejects.toMatchObject({
      code: 'DATA_IMPORT_INVALID',
      message: expect.stringMatching(/events\.evil/),
    });
    writeFileSync(file, '{"format":"something-else"}\n');
    await expect(copy.importFrom(file)).rejects.toMatchObject({ code: 'DATA_IMPORT_INVALID' });
    await expect(copy.importFrom(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'IO_NOT_FOUND',
    });
    expect(await copy.fragments.count()).toBe(0);
    expect(await copy.events.count()).toBe(0);
    await copy.close();
  });

  it('keeps data across reopen and passes the integrity check', async () => {
    const path = join(dir, `${impl}-reopen.db`);
    const a = await openTestStore(impl, path, { vectorDimension: 8 });
    await a.fragments.put([{ id: 'x', text: 'persisted', vector: vec(8, 3) }]);
    await a.close();
    await a.close(); // closing twice is harmless
    await expect(a.fragments.count()).rejects.toMatchObject({ code: 'DATA_CLOSED' });
    const b = await openTestStore(impl, path);
    expect((await b.fragments.get('x'))?.vector).toEqual(vec(8, 3));
    expect(await b.integrityCheck()).toBe('ok');
    await b.close();
    await expect(openTestStore(impl, path, { vectorDimension: 16 })).rejects.toMatchObject({
      code: 'DATA_DIMENSION_MISMATCH',
    });
  });

  it.runIf(sqlite)('leaves a non-SQLite or damaged file untouched and says so', async () => {
    const junk = join(dir, `${impl}-junk.db`);
    const bytes = Buffer.from('{"this": "is a JSON file, not a database"}\n'.repeat(100));
    writeFileSync(junk, bytes);
    await expect(openTestStore(impl, junk)).rejects.toMatchObject({
      code: 'DATA_NOT_A_DATABASE',
      message: expect.stringContaining('untouched'),
    });
    expect(readFileSync(junk).equals(bytes)).toBe(true);

    // A valid header over garbage pages.
    const damaged = join(dir, `${impl}-damaged.db`);
    const garbage = Buffer.alloc(8192, 0xa5);
    Buffer.from('SQLite format 3\0', 'latin1').copy(garbage);
    writeFileSync(damaged, garbage);
    const err = await openTestStore(impl, damaged).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expect.stringMatching(/^DATA_(NOT_A_DATABASE|CORRUPT)$/) });
    expect(readFileSync(damaged).equals(garbage)).toBe(true);

    await expect(openTestStore(impl, dir)).rejects.toMatchObject({
      code: 'IO_NOT_A_FILE',
    });
  });

  it.runIf(sqlite)('refuses a database from a newer version or another application', async () => {
    const newer = join(dir, `${impl}-newer.db`);
    const s = await openTestStore(impl, newer);
    await s.close();
    // Bump the schema version as a future release would.
    rawSql(newer, 'PRAGMA user_version = 99');
    await expect(openTestStore(impl, newer)).rejects.toMatchObject({
      code: 'DATA_SCHEMA_TOO_NEW',
      message: expect.stringContaining('99'),
    });
    const foreign = join(dir, `${impl}-foreign.db`);
    rawSql(foreign, 'CREATE TABLE notes (body TEXT)');
    await expect(openTestStore(impl, foreign)).rejects.toMatchObject({
      code: 'DATA_FOREIGN_DATABASE',
    });
  });
});

describe('openDataStore', () => {
  it('defaults to aios.db in the AIOS home of the config', async () => {
    const home = join(dir, 'home');
    const store = await openDataStore({ config: { env: { AIOS_HOME: home }, cwd: home } });
    expect(store.path).toBe(join(home, 'aios.db'));
    await store.events.add([{ type: 'boot' }]);
    await store.close();
    expect(readFileSync(join(home, 'aios.db')).subarray(0, 15).toString()).toBe('SQLite format 3');
  });

  it('refuses bad options with INVALID_INPUT', async () => {
    for (const options of [
      { path: '' },
      { path: ':memory:', vectorDimension: 0 },
      { path: ':memory:', maxRowBytes: -1 },
      { path: ':memory:', durability: 'sometimes' },
    ]) {
      await expect(openDataStore(options as never)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    }
  });
});
