import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openDataStore } from '@aios/data';
import { createHashing } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARMA_META_KEY, TOUCH_DELAY_MS } from './data-fragment-store.js';
import type { StoreMeta } from './fragment-store.js';
import { MEMORY_DATABASE_FILE, openMemory } from './memory.js';

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
    const before = await m1.list();
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
    expect(await m2.list()).toEqual(before);
    expect(await m2.get(a?.fragment.id as string)).toMatchObject({
      importance: 0.7,
      core: true,
      reinforcements: 1,
      version: 2,
      accessedAt: 1_010,
      namespace: 'alice',
    });
    expect((await m2.get(b?.fragment.id as string))?.metadata).toEqual({ topic: 'backup' });
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
    await sleep(TOUCH_DELAY_MS + 400);
    const stored = await data.fragments.get(hit?.id as string);
    expect(stored?.useCount).toBe(2);
    expect(stored?.lastUsedAt).toBe((await m.get(hit?.id as string))?.accessedAt);
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

  it('writes the accesses of many fragments in slices, each counted once, a rewrite in between included', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const m = await openMemory({ data, native: impl, dimension: 64 });
    const added = await m.addMany(
      Array.from({ length: 700 }, (_, i) => `note ${i} about the pantry shelf number ${i * 13}`),
    );
    const ids = added.map((a) => a.fragment.id);
    // Each listed fragment accessed by one search (more than one slice of a flush).
    let last: string | undefined;
    for (let i = 0; i < ids.length; i += 50) {
      const ws = ids.slice(i, i + 50).map((_, j) => `${i + j}`);
      last = (await m.search(ws.join(' '), { k: 50, mode: 'lexical' }))[0]?.id;
    }
    const accessed = (await m.list()).filter((f) => f.accessCount > 0);
    expect(accessed.length).toBeGreaterThan(300);
    // A rewrite of one accessed last (in the flush's last slice), made once the first
    // slice is written, carries its counts whole: the flush must not add them again.
    const { fragments } = data;
    const record = fragments.recordUses.bind(fragments);
    let slices = 0;
    fragments.recordUses = async (uses) => {
      const counted = await record(uses);
      if (++slices === 1) await m.update(last as string, { metadata: { moved: true } });
      return counted;
    };
    await m.flush();
    expect(slices).toBeGreaterThan(1);
    await m.flush();
    const stored = await data.fragments.getMany((await m.list()).map((f) => f.id));
    const counts = (list: Array<{ id: string; count: number }>) =>
      Object.fromEntries(list.filter((x) => x.count > 0).map((x) => [x.id, x.count]));
    expect(counts(stored.map((f) => ({ id: f?.id as string, count: f?.useCount ?? 0 })))).toEqual(
      counts((await m.list()).map((f) => ({ id: f.id, count: f.accessCount }))),
    );
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
    expect(await m2.get(fragment.id)).toBeUndefined();
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
    const linked = (await m1.list()).filter((f) => f.links.length > 0);
    expect(linked.length).toBeGreaterThan(0);
    const target = linked[0]?.links[0] as string;
    const pointing = (await m1.list()).filter((f) => f.links.includes(target));
    await m1.delete(target);
    const size = m1.size;
    for (const f of pointing) {
      const now = await m1.get(f.id);
      expect(now?.links).not.toContain(target);
      expect(now?.version).toBe(f.version + 1);
      const last = (await m1.history(f.id)).at(-1);
      expect(last).toMatchObject({ kind: 'link', note: expect.stringContaining(target) });
    }
    await m1.close();
    const m2 = await openMemory({ dir, native: impl });
    expect((await m2.list()).some((f) => f.links.includes(target))).toBe(false);
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
    const [id] = (await m2.list()).map((f) => f.id);
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

  it('keeps working when a checkpoint cannot write a file, and writes the next one', async () => {
    const dir = join(root, `${impl}-failed-checkpoint`);
    const memory = await openMemory({ dir, native: impl, dimension: 64, hnsw: true });
    await memory.addMany(TEXTS);
    expect(await memory.writeIndexFiles()).toBe('written');
    const generationOf = (name: string) => Number(/^index-(\d+)\.bin$/.exec(name)?.[1] ?? NaN);
    const [named] = readdirSync(dir).map(generationOf).filter(Number.isFinite);
    // The vector index file of the next generation cannot be written: a directory holds
    // the name of its temporary file.
    const blocker = join(dir, `index-${(named as number) + 1}.bin.tmp-${process.pid}`);
    mkdirSync(blocker);
    const added = await memory.add('The garden hose hangs in the shed');
    await expect(memory.writeIndexFiles()).rejects.toMatchObject({
      code: expect.stringMatching(/^IO_/),
    });
    // The other files of that checkpoint were finished (or given up) before it failed: no
    // write is left running into a temporary file.
    expect(readdirSync(dir).filter((n) => n.includes('.tmp'))).toEqual([basename(blocker)]);
    expect((await memory.search('garden hose', { k: 1 }))[0]?.id).toBe(added.fragment.id);
    rmSync(blocker, { recursive: true });
    expect(await memory.writeIndexFiles()).toBe('written');
    await memory.close();
    const reopened = await openMemory({ dir, native: impl, dimension: 64, hnsw: true });
    expect(reopened.indexOrigin).toBe('file');
    expect((await reopened.search('garden hose', { k: 1 }))[0]?.id).toBe(added.fragment.id);
    expect(reopened.stats().fragments).toBe(TEXTS.length + 1);
    await reopened.close();
  });

  it('finds CJK, Thai and Hindi text by its words, and migrates a lexical file of older terms once', async () => {
    const dir = join(root, `${impl}-cjk`);
    const texts = [
      '東京は日本の首都です',
      '北京是中国的首都',
      '서울은 한국의 수도입니다',
      'Paris is the capital',
      'กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย',
      'पेरिस फ्रांस की राजधानी है',
    ];
    const m1 = await openMemory({ dir, native: impl });
    const added = await m1.addMany(texts);
    const ids = added.map((a) => a.fragment.id);
    const lexicalIds = async (m: Awaited<ReturnType<typeof openMemory>>, q: string) =>
      (await m.search(q, { k: 4, mode: 'lexical' })).map((r) => r.id);
    expect((await lexicalIds(m1, '日本の首都'))[0]).toBe(ids[0]);
    expect((await lexicalIds(m1, '首都')).sort()).toEqual([ids[0], ids[1]].sort());
    expect(await lexicalIds(m1, '한국')).toEqual([ids[2]]);
    await m1.close();
    const lexicalFile = () => {
      const names = readdirSync(dir).filter((n) => /^lexical-\d+\.bin$/.test(n));
      expect(names).toHaveLength(1);
      return join(dir, names[0] as string);
    };
    expect(readFileSync(lexicalFile()).readUInt32LE(8)).toBe(4);
    // The file labelled as an earlier version wrote it (version 3: terms of the tokenizer
    // that cut words at a virama and kept Thai runs whole), its checksum made again.
    const hashing = await createHashing({ native: impl });
    const bytes = Buffer.from(readFileSync(lexicalFile()));
    bytes.writeUInt32LE(3, 8);
    const body = bytes.subarray(0, bytes.length - 32);
    writeFileSync(lexicalFile(), Buffer.concat([body, Buffer.from(hashing.hashSync(body), 'hex')]));
    // Opened: rebuilt from the texts (the file's terms would not match), and found by words.
    const m2 = await openMemory({ dir, native: impl });
    expect(m2.lexicalOrigin).toBe('texts');
    expect((await lexicalIds(m2, '日本の首都'))[0]).toBe(ids[0]);
    expect((await lexicalIds(m2, 'เมืองหลวง'))[0]).toBe(ids[4]);
    expect(await lexicalIds(m2, 'फ्रांस')).toEqual([ids[5]]);
    await m2.close();
    // The close wrote the file again, though nothing changed: the next open reads it.
    expect(readFileSync(lexicalFile()).readUInt32LE(8)).toBe(4);
    const m3 = await openMemory({ dir, native: impl });
    expect(m3.lexicalOrigin).toBe('file');
    expect(await lexicalIds(m3, '中国')).toEqual([ids[1]]);
    await m3.close();
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
