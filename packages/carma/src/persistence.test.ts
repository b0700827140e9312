import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARMA_META_KEY } from './data-store.js';
import { createEngine } from './engine/index.js';
import { MEMORY_DATABASE_FILE, openMemory } from './memory.js';
import type { FragmentChange, FragmentRecord, StoreMeta } from './store.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-persist-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TEXTS = [
  'Alice prefers green tea in the morning',
  'The backup of the photo library runs every Sunday',
  'Bob plays the cello in a community orchestra',
  'The spare key is under the blue flower pot',
];

const CLUSTER = [
  'Alice prefers green tea in the morning',
  'Alice prefers green tea in the morning!',
  'Alice likes green tea in the mornings and black tea at night',
  'The backup of the photo library runs every Sunday',
  'The backup of the photo library runs each Sunday night',
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testImplementations())('a memory in @aios/data (%s)', (impl) => {
  it('lives in the data store it is given, which it leaves open', async () => {
    const data = await openDataStore({ path: join(root, `${impl}-given.db`), native: impl });
    const dir = join(root, `${impl}-given`);
    let clock = 1_000;
    const now = () => clock;
    const m1 = await openMemory({ data, dir, native: impl, dimension: 64, now });
    const [a, b] = await m1.addMany([
      { text: TEXTS[0] as string, namespace: 'alice', metadata: { topic: 'tea' }, core: true },
      { text: TEXTS[1] as string, importance: 0.3 },
    ]);
    clock += 10;
    await m1.reinforce(a?.fragment.id as string, 0.2);
    await m1.update(b?.fragment.id as string, { metadata: { topic: 'backup' } });
    const before = m1.list();
    await m1.close();
    // The memory is closed; the data store is not.
    expect(await data.fragments.count()).toBe(2);
    const stored = await data.fragments.get(a?.fragment.id as string);
    expect(stored).toMatchObject({
      namespace: 'alice',
      metadata: { topic: 'tea' },
      attributes: { importance: 0.7, core: true, reinforcements: 1, version: 2 },
    });
    expect(((await data.meta.get(CARMA_META_KEY)) as unknown as StoreMeta).embedder).toBe(
      'carma-hash-v1',
    );
    expect(existsSync(join(dir, MEMORY_DATABASE_FILE))).toBe(false);
    expect(readdirSync(dir)).toContain('index-1.bin');

    const m2 = await openMemory({ data, dir, native: impl, dimension: 64, now });
    // Every field comes back as it was.
    expect(m2.list()).toEqual(before);
    expect(m2.get(a?.fragment.id as string)).toMatchObject({
      importance: 0.7,
      core: true,
      reinforcements: 1,
      version: 2,
      accessedAt: 1_010,
      namespace: 'alice',
    });
    expect(m2.get(b?.fragment.id as string)?.metadata).toEqual({ topic: 'backup' });
    expect(m2.stats().location).toBe(dir);
    await m2.close();
    await data.close();
  });

  it('writes accesses soon after a search, without waiting for a checkpoint', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const m = await openMemory({ data, native: impl, dimension: 64 });
    await m.addMany(TEXTS);
    const [hit] = await m.search('green tea in the morning', { k: 1 });
    await m.search('green tea', { k: 1 });
    await sleep(600);
    const stored = await data.fragments.get(hit?.id as string);
    expect(stored?.useCount).toBe(2);
    expect(stored?.lastUsedAt).toBe(m.get(hit?.id as string)?.accessedAt);
    // The store's analytics see what CARMA retrieves.
    expect((await data.analytics.topFragments(1))[0]?.id).toBe(hit?.id);
    // A write of the fragment carries its counts; later accesses add to them.
    await m.reinforce(hit?.id as string);
    await m.search('green tea', { k: 1 });
    await m.flush();
    expect((await data.fragments.get(hit?.id as string))?.useCount).toBe(3);
    await m.close();
    await data.close();
  });

  it('keeps the history of a deleted fragment across reopen', async () => {
    const dir = join(root, `${impl}-history`);
    const m1 = await openMemory({ dir, native: impl, dimension: 64 });
    const { fragment } = await m1.add('The car is parked on level 2');
    await m1.update(fragment.id, { text: 'The car is parked on level 4' });
    await m1.delete(fragment.id);
    await m1.close();
    const m2 = await openMemory({ dir, native: impl, dimension: 64 });
    expect(m2.get(fragment.id)).toBeUndefined();
    const history = await m2.history(fragment.id);
    expect(history.map((h) => [h.kind, h.version, h.text])).toEqual([
      ['add', 1, 'The car is parked on level 2'],
      ['update', 2, 'The car is parked on level 4'],
      ['delete', 3, 'The car is parked on level 4'],
    ]);
    await m2.close();
  });

  it('removes a deleted fragment from the links of the others', async () => {
    const dir = join(root, `${impl}-links`);
    const m1 = await openMemory({ dir, native: impl, nearDuplicateThreshold: 2 });
    const ids = (await m1.addMany(CLUSTER)).map((r) => r.fragment.id);
    await m1.consolidate({ clusters: 2, mergeThreshold: 0.99, linkThreshold: 0.4 }).done;
    const linked = m1.list().filter((f) => f.links.length > 0);
    expect(linked.length).toBeGreaterThan(0);
    const target = linked[0]?.links[0] as string;
    const pointing = m1.list().filter((f) => f.links.includes(target));
    await m1.delete(target);
    const size = m1.size;
    for (const f of pointing) {
      const now = m1.get(f.id);
      expect(now?.links).not.toContain(target);
      expect(now?.version).toBe(f.version + 1);
      const last = (await m1.history(f.id)).at(-1);
      expect(last).toMatchObject({ kind: 'link', note: expect.stringContaining(target) });
    }
    await m1.close();
    const m2 = await openMemory({ dir, native: impl });
    expect(m2.list().some((f) => f.links.includes(target))).toBe(false);
    expect(m2.size).toBe(size);
    expect(size).toBeLessThan(ids.length);
    await m2.close();
  });

  it('re-embeds into the data store in one step', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const m1 = await openMemory({ data, native: impl, dimension: 64 });
    await m1.addMany(TEXTS);
    await m1.close();
    await expect(openMemory({ data, native: impl, dimension: 32 })).rejects.toMatchObject({
      code: 'EMBEDDER_MISMATCH',
    });
    const m2 = await openMemory({ data, native: impl, dimension: 32, reembed: true });
    expect(await data.fragments.dimension()).toBe(32);
    expect(((await data.meta.get(CARMA_META_KEY)) as unknown as StoreMeta).dimension).toBe(32);
    const [id] = m2.list().map((f) => f.id);
    expect((await m2.history(id as string)).at(-1)?.note).toContain('re-embedded');
    expect((await m2.search('cello orchestra', { k: 1, mode: 'vector' }))[0]?.fragment.text).toBe(
      TEXTS[2],
    );
    await m2.close();
    await data.close();
  });

  it('rebuilds a missing or damaged index file from the stored vectors', async () => {
    const dir = join(root, `${impl}-rebuild`);
    const m1 = await openMemory({ dir, native: impl, dimension: 64, hnsw: true });
    await m1.addMany(TEXTS);
    const want = (await m1.search('spare key', { k: 2, mode: 'vector' })).map((r) => r.id);
    await m1.close();
    const indexFile = () => readdirSync(dir).filter((n) => /^index-\d+\.bin$/.test(n));
    for (const damage of ['missing', 'damaged'] as const) {
      const index = indexFile()[0] as string;
      if (damage === 'missing') rmSync(join(dir, index));
      else writeFileSync(join(dir, index), 'not an index');
      const m = await openMemory({ dir, native: impl, dimension: 64, hnsw: true });
      expect((await m.search('spare key', { k: 2, mode: 'vector' })).map((r) => r.id)).toEqual(
        want,
      );
      expect(m.stats().hnsw).not.toBeNull();
      await m.close();
      // Opening to read wrote no file; the next change writes a sound one, named in the store.
      expect(indexFile()).toEqual(damage === 'missing' ? [] : [index]);
      const writer = await openMemory({ dir, native: impl, dimension: 64, hnsw: true });
      await writer.delete((await writer.add('A fragment written and deleted again')).fragment.id);
      await writer.close();
      expect(indexFile()).toHaveLength(1);
      expect(indexFile()[0]).not.toBe(index);
    }
  });

  it('refuses a bad data option with INVALID_INPUT', async () => {
    for (const data of [{}, 'aios.db', 42]) {
      await expect(openMemory({ data: data as never, native: impl })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    }
    await expect(openMemory({ dir: '', native: impl })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

describe('memories in @aios/data open in the other implementation', () => {
  const impls = testImplementations();
  it.runIf(impls.length === 2)('native -> js -> native, history included', async () => {
    const dir = join(root, 'cross');
    const a = await openMemory({ dir, native: 'native', dimension: 64 });
    const added = await a.addMany(TEXTS);
    await a.delete(added[3]?.fragment.id as string);
    const want = (await a.search('backup of photos', { k: 2 })).map((r) => r.id);
    await a.close();
    const b = await openMemory({ dir, native: 'js', dimension: 64 });
    expect((await b.search('backup of photos', { k: 2 })).map((r) => r.id)).toEqual(want);
    expect((await b.history(added[3]?.fragment.id as string)).map((h) => h.kind)).toEqual([
      'add',
      'delete',
    ]);
    const extra = await b.add('Carol sings in a choir on Mondays');
    await b.close();
    const c = await openMemory({ dir, native: 'native', dimension: 64 });
    expect(c.size).toBe(4);
    expect((await c.search('who sings in a choir', { k: 1 }))[0]?.id).toBe(extra.fragment.id);
    await c.close();
  });
});

/** The text of old-1 after a change logged after the snapshot (a new vector too). */
const EDITED = 'The backup of the music library runs every Monday at noon';

/** An HNSW setting no memory here builds itself: it shows that a saved index was loaded. */
const LEGACY_GRAPH = { m: 5, efConstruction: 20, seed: 7 };

/**
 * Writes a memory in CARMA's old file format in `<dir>/store` (snapshot generation 1 plus a
 * log), and the index file of the snapshot in `<dir>/index-1.bin`.
 */
async function writeLegacyStore(dir: string, impl: 'native' | 'js') {
  const engine = createEngine({ native: impl });
  const dim = 64;
  const record = (i: number, text: string): FragmentRecord => ({
    id: `old-${i}`,
    label: i,
    namespace: i === 1 ? 'work' : 'default',
    text,
    contentHash: `hash-${i}`,
    metadata: { source: 'legacy', i },
    importance: 0.5 + i / 10,
    core: i === 0,
    createdAt: 1000 + i,
    updatedAt: 2000 + i,
    accessedAt: 3000 + i,
    accessCount: i,
    reinforcements: i,
    version: 1,
    mergedFrom: [],
    links: i === 0 ? ['old-1'] : [],
  });
  const added = (f: FragmentRecord): FragmentChange => ({
    version: 1,
    kind: 'add',
    at: f.createdAt,
    text: f.text,
    metadata: f.metadata,
    importance: f.importance,
  });
  const snapshot = [0, 1, 2].map((i) => record(i, TEXTS[i] as string));
  const vectors = engine.embed(
    snapshot.map((f) => f.text),
    dim,
  );
  const meta: StoreMeta = {
    embedder: 'carma-hash-v1',
    dimension: dim,
    metric: 'cosine',
    nextLabel: 3,
  };
  const store = join(dir, 'store');
  mkdirSync(store, { recursive: true });
  const index = engine.createVectorIndex(dim, 'cosine', LEGACY_GRAPH);
  index.add(Uint32Array.of(0, 1, 2), vectors);
  await index.save(join(dir, 'index-1.bin'));
  writeFileSync(
    join(store, 'snapshot-1.json'),
    JSON.stringify({
      format: 'carma-store-v1',
      generation: 1,
      meta,
      fragments: snapshot,
      history: Object.fromEntries(snapshot.map((f) => [f.id, [added(f)]])),
    }),
  );
  writeFileSync(join(store, 'vectors-1.f32'), new Uint8Array(vectors.buffer));
  const late = record(3, TEXTS[3] as string);
  const lateVector = engine.embed([late.text], dim);
  const edited = { ...record(1, EDITED), version: 2 };
  const editedVector = engine.embed([EDITED], dim);
  const gone = snapshot[2] as FragmentRecord;
  const log = [
    { op: 'meta', meta: { ...meta, nextLabel: 7 } },
    {
      op: 'put',
      items: [
        {
          fragment: late,
          vector: Buffer.from(lateVector.buffer).toString('base64'),
          change: added(late),
        },
      ],
    },
    {
      op: 'put',
      items: [
        {
          fragment: edited,
          vector: Buffer.from(editedVector.buffer).toString('base64'),
          change: { ...added(edited), kind: 'update', version: 2 },
        },
      ],
    },
    {
      op: 'delete',
      items: [{ id: gone.id, change: { ...added(gone), kind: 'delete', version: 2, at: 5000 } }],
    },
  ];
  writeFileSync(
    join(store, 'log-1.jsonl'),
    `${log.map((e) => JSON.stringify(e)).join('\n')}\n{"op":"put","items":[{"frag`,
  );
  writeFileSync(join(store, 'CURRENT'), '1\n');
}

describe.each(testImplementations())('a memory in the old file format (%s)', (impl) => {
  it('is imported once into the data store, and its directory renamed aside', async () => {
    const dir = join(root, `${impl}-legacy`);
    await writeLegacyStore(dir, impl);
    const m1 = await openMemory({ dir, native: impl, dimension: 64 });
    expect(m1.size).toBe(3);
    expect(m1.get('old-2')).toBeUndefined();
    expect(m1.get('old-0')).toMatchObject({
      text: TEXTS[0],
      core: true,
      links: ['old-1'],
      accessedAt: 3000,
      accessCount: 0,
      createdAt: 1000,
      updatedAt: 2000,
    });
    expect(m1.get('old-1')).toMatchObject({ namespace: 'work', accessCount: 1, importance: 0.6 });
    expect((await m1.history('old-2')).map((h) => h.kind)).toEqual(['add', 'delete']);
    expect((await m1.history('old-1')).map((h) => h.kind)).toEqual(['add', 'update']);
    // The index file of the old snapshot is used (with its graph), brought up to date with
    // the changes logged after it: one fragment added, one deleted.
    expect(m1.stats().hnsw).toEqual(LEGACY_GRAPH);
    const removed = await m1.search(TEXTS[2] as string, { k: 3, mode: 'vector', exact: true });
    expect(removed.map((r) => r.id)).not.toContain('old-2');
    // old-1 was edited after the snapshot: its vector in the index is the new one.
    const scoreOf = async (text: string) =>
      (await m1.search(text, { k: 4, mode: 'vector', exact: true })).find((r) => r.id === 'old-1')
        ?.score ?? 0;
    expect(await scoreOf(EDITED)).toBeGreaterThan(await scoreOf(TEXTS[1] as string));
    expect((await m1.search('spare key flower pot', { k: 1, mode: 'vector' }))[0]?.id).toBe(
      'old-3',
    );
    const fresh = await m1.add('A new fragment after the import');
    await m1.close();
    const names = readdirSync(dir);
    expect(names).not.toContain('store');
    expect(names.filter((n) => /^store\.imported-\d+$/.test(n))).toHaveLength(1);

    const data = await openDataStore({ path: join(dir, MEMORY_DATABASE_FILE), native: impl });
    // Labels continue after the old store's last one.
    expect(((await data.fragments.get(fresh.fragment.id))?.attributes.label as number) >= 7).toBe(
      true,
    );
    const changes = (await data.fragments.changedSince(0)).seq;
    await data.close();

    // A crash between the import and the rename: the next open does not import again.
    const aside = names.find((n) => n.startsWith('store.imported-')) as string;
    renameSync(join(dir, aside), join(dir, 'store'));
    const m2 = await openMemory({ dir, native: impl, dimension: 64 });
    expect(m2.size).toBe(4);
    expect((await m2.history('old-2')).map((h) => h.kind)).toEqual(['add', 'delete']);
    await m2.close();
    expect(readdirSync(dir)).not.toContain('store');
    const again = await openDataStore({ path: join(dir, MEMORY_DATABASE_FILE), native: impl });
    expect((await again.fragments.changedSince(0)).seq).toBe(changes);
    await again.close();
  });

  it('is imported into a given data store; one that already holds a memory refuses it', async () => {
    const dir = join(root, `${impl}-legacy-data`);
    await writeLegacyStore(dir, impl);
    const data = await openDataStore({ path: ':memory:', native: impl });
    const m = await openMemory({ data, dir, native: impl, dimension: 64 });
    expect(m.size).toBe(3);
    await m.close();
    expect(await data.fragments.count()).toBe(3);

    await writeLegacyStore(dir, impl);
    const other = await openDataStore({ path: ':memory:', native: impl });
    const busy = await openMemory({ data: other, native: impl, dimension: 64 });
    await busy.add('already a memory here');
    await busy.close();
    await expect(
      openMemory({ data: other, dir, native: impl, dimension: 64 }),
    ).rejects.toMatchObject({
      code: 'STORE_CONFLICT',
    });
    expect(existsSync(join(dir, 'store', 'CURRENT'))).toBe(true);
    expect(await other.fragments.count()).toBe(1);
    await other.close();
    await data.close();
  });
});
