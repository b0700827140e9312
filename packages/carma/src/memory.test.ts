import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TEXT_LENGTH, type Memory, openMemory } from './memory.js';

const FACTS = [
  {
    text: 'Alice prefers green tea in the morning and coffee after lunch',
    metadata: { topic: 'food', year: 2021, tags: ['drinks', 'habits'] },
  },
  {
    text: 'The backup of the photo library runs every Sunday at 3 am',
    metadata: { topic: 'backup', year: 2023, tags: ['schedule'] },
  },
  {
    text: 'Alice is allergic to peanuts and avoids satay sauce',
    metadata: { topic: 'health', year: 2022, tags: ['food'] },
  },
  {
    text: 'The home server has 32 GB of memory and two NVMe disks',
    metadata: { topic: 'hardware', year: 2024, tags: [] },
  },
  {
    text: 'Bob plays the cello in a community orchestra on Thursdays',
    metadata: { topic: 'music', year: 2020, tags: ['schedule'] },
  },
  {
    text: 'Restoring photos from the backup takes about forty minutes',
    metadata: { topic: 'backup', year: 2024, tags: ['photos'] },
  },
];

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-memory-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.each(testImplementations())('memory (%s)', (impl) => {
  let clock = 1_000_000;
  const now = () => clock;
  let memory: Memory;
  beforeAll(async () => {
    memory = await openMemory({ native: impl, now });
    await memory.addMany(FACTS);
  });

  it('runs the requested implementation', () => {
    expect(memory.implementation).toBe(impl);
    expect(memory.stats()).toMatchObject({
      fragments: 6,
      dimension: 384,
      embedder: 'carma-hash-v1',
    });
  });

  it('finds the right fragment in every mode', async () => {
    for (const mode of ['hybrid', 'vector', 'lexical'] as const) {
      const [top] = await memory.search('is Alice allergic to peanuts?', { k: 3, mode });
      expect(top?.fragment.text, mode).toContain('allergic to peanuts');
    }
    // Morphology reaches what exact words miss: "restore" vs "Restoring".
    expect(await memory.search('restore', { k: 1, mode: 'lexical' })).toEqual([]);
    const [v] = await memory.search('restore', { k: 1, mode: 'vector' });
    expect(v?.fragment.text).toContain('Restoring photos');
    const [h] = await memory.search('restore', { k: 1 });
    expect(h?.fragment.text).toContain('Restoring photos');
  });

  it('explains hybrid scores', async () => {
    const results = await memory.search('backup photos', { k: 2, explain: true });
    const e = results[0]?.explain;
    expect(e?.lexical?.rank).toBeGreaterThanOrEqual(1);
    expect(e?.vector?.score).toBeGreaterThan(0);
    expect(e?.final).toBeCloseTo(results[0]?.score as number, 10);
    expect(e?.base).toBeCloseTo(
      0.7 * (e?.lexical?.normalized ?? 0) + 0.3 * (e?.vector?.normalized ?? 0),
      10,
    );
    const rrf = await memory.search('backup photos', {
      k: 2,
      explain: true,
      fusion: { method: 'rrf' },
    });
    expect(rrf[0]?.explain?.base).toBeLessThan(2 / 61 + 1e-12);
  });

  it('filters by metadata equality, ranges and sets, and by fields', async () => {
    const texts = async (filter: Record<string, unknown>) =>
      (await memory.search('backup photos Alice', { k: 10, filter: filter as never })).map(
        (r) => r.fragment.text,
      );
    expect(await texts({ topic: 'backup' })).toHaveLength(2);
    expect(
      (await texts({ year: { $gte: 2023, $lt: 2025 } })).every((t) =>
        /backup|server|Restoring/.test(t),
      ),
    ).toBe(true);
    expect(await texts({ 'metadata.topic': { $in: ['health', 'music'] } })).toHaveLength(2);
    expect(await texts({ tags: 'schedule', topic: { $ne: 'music' } })).toEqual([FACTS[1]?.text]);
    expect(await texts({ importance: { $gt: 0.9 } })).toEqual([]);
    await expect(
      memory.search('x', { filter: { year: { $between: [1, 2] } } as never }),
    ).rejects.toMatchObject({
      code: 'INVALID_FILTER',
    });
    await expect(
      memory.search('x', { filter: { year: { $in: 5 } } as never }),
    ).rejects.toMatchObject({
      code: 'INVALID_FILTER',
    });
    await expect(memory.search('x', { filter: 'topic' as never })).rejects.toMatchObject({
      code: 'INVALID_FILTER',
    });
  });

  it('filters times by dates as the API shows them, or milliseconds, and refuses a time that is none', async () => {
    const all = (await memory.search('backup photos Alice', { k: 10 })).length;
    const count = async (createdAt: Record<string, unknown>) =>
      (await memory.search('backup photos Alice', { k: 10, filter: { createdAt } as never }))
        .length;
    const times = (await memory.search('backup photos Alice', { k: 10 })).map(
      (r) => r.fragment.createdAt,
    );
    const first = Math.min(...times);
    const last = Math.max(...times);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(await count({ $lt: '2999-01-01T00:00:00Z' })).toBe(all);
    expect(await count({ $gte: iso(first) })).toBe(all);
    expect(await count({ $gt: iso(last) })).toBe(0);
    expect(await count({ $gte: iso(first).slice(0, 10) })).toBe(all);
    expect(await count({ $lte: last })).toBe(all);
    await expect(count({ $gt: 'garbage' })).rejects.toMatchObject({
      code: 'INVALID_FILTER',
      message: expect.stringContaining('filter.createdAt: $gt expects a time'),
    });
  });

  it('sees changes through a repeated filter', async () => {
    const m = await openMemory({ native: impl });
    const a = await m.add({ text: 'quarterly report draft', metadata: { status: 'draft' } });
    await m.add({ text: 'quarterly report final', metadata: { status: 'final' } });
    const drafts = async () =>
      (await m.search('quarterly report', { filter: { status: 'draft' } })).map((r) => r.id);
    expect(await drafts()).toEqual([a.fragment.id]);
    await m.update(a.fragment.id, { metadata: { status: 'final' } });
    expect(await drafts()).toEqual([]);
    const b = await m.add({ text: 'quarterly report second draft', metadata: { status: 'draft' } });
    expect(await drafts()).toEqual([b.fragment.id]);
    await m.reinforce(b.fragment.id, 0.4);
    expect(
      (await m.search('quarterly', { filter: { importance: { $gte: 0.9 } } })).map((r) => r.id),
    ).toEqual([b.fragment.id]);
    await m.close();
  });

  it('keeps namespaces apart', async () => {
    await memory.add({
      text: 'Alice prefers green tea in the morning and coffee after lunch',
      namespace: 'bob',
    });
    const res = await memory.search('green tea', { namespace: 'bob', k: 5 });
    expect(res).toHaveLength(1);
    expect(res[0]?.fragment.namespace).toBe('bob');
    expect(memory.namespaces()).toEqual({ default: 6, bob: 1 });
    expect(await memory.search('green tea', { namespace: 'nobody' })).toEqual([]);
  });

  it('dedups identical text and reports near-duplicates', async () => {
    const again = await memory.add(FACTS[0]?.text as string);
    expect(again.status).toBe('duplicate');
    const first = (await memory.list({ filter: { topic: 'food' } }))[0];
    expect(again.fragment.id).toBe(first?.id);
    const batch = await memory.addMany(['Carol sings in a choir', 'Carol sings in a choir']);
    expect(batch[1]?.status).toBe('duplicate');
    expect(batch[1]?.fragment.id).toBe(batch[0]?.fragment.id);
    const near = await memory.add(
      'Alice prefers green tea in the morning, and coffee after lunch!',
    );
    expect(near.status).toBe('added');
    expect(near.nearDuplicates[0]?.id).toBe(first?.id);
    expect(near.nearDuplicates[0]?.similarity).toBeGreaterThan(0.95);
    await memory.delete(near.fragment.id);
    await memory.delete(batch[0]?.fragment.id as string);
  });

  it('updates, reinforces, deletes and keeps every version', async () => {
    const { fragment } = await memory.add({
      text: 'The car is parked on level 2',
      metadata: { topic: 'car' },
    });
    clock += 1000;
    const updated = await memory.update(fragment.id, {
      text: 'The car is parked on level 4',
      importance: 0.8,
    });
    expect(updated.version).toBe(2);
    expect(updated.updatedAt).toBe(clock);
    expect((await memory.search('where is the car parked', { k: 1 }))[0]?.fragment.text).toContain(
      'level 4',
    );
    expect((await memory.search('level 2', { k: 5, mode: 'lexical' })).map((r) => r.id)).toContain(
      fragment.id,
    );
    const [r] = await memory.reinforce(fragment.id, 0.15);
    expect(r?.importance).toBeCloseTo(0.95, 10);
    expect(r?.reinforcements).toBe(1);
    await memory.delete(fragment.id);
    expect(await memory.get(fragment.id)).toBeUndefined();
    expect((await memory.search('car parked level', { k: 10 })).map((x) => x.id)).not.toContain(
      fragment.id,
    );
    expect((await memory.history(fragment.id)).map((h) => h.kind)).toEqual([
      'add',
      'update',
      'reinforce',
      'delete',
    ]);
    expect((await memory.history(fragment.id))[0]?.text).toBe('The car is parked on level 2');
  });

  it('adds opt-in recency and importance terms; core memories do not decay', async () => {
    const m = await openMemory({ native: impl, now });
    const old = await m.add({ text: 'meeting notes about the budget', importance: 0.2 });
    const core = await m.add({
      text: 'meeting notes about the budget review',
      core: true,
      importance: 0.9,
    });
    clock += 10 * 86_400_000;
    const recent = await m.add({ text: 'meeting notes on the budget', importance: 0.2 });
    const res = await m.search('budget meeting notes', {
      k: 3,
      explain: true,
      recency: { weight: 1, halfLifeMs: 86_400_000 },
      importance: { weight: 0.5 },
    });
    const byId = new Map(res.map((x) => [x.id, x.explain]));
    expect(byId.get(recent.fragment.id)?.recency).toBeCloseTo(1, 10);
    expect(byId.get(old.fragment.id)?.recency).toBeCloseTo(0.5 ** 10, 10);
    expect(byId.get(core.fragment.id)?.recency).toBe(1);
    expect(byId.get(core.fragment.id)?.importance).toBeCloseTo(0.45, 10);
    expect(res[res.length - 1]?.id).toBe(old.fragment.id);
    await m.close();
  });

  it('rejects bad input with codes and leaves the memory unchanged', async () => {
    const before = memory.size;
    await expect(memory.add('   ')).rejects.toMatchObject({ code: 'TEXT_EMPTY' });
    await expect(memory.add('x'.repeat(MAX_TEXT_LENGTH + 1))).rejects.toMatchObject({
      code: 'TEXT_TOO_LARGE',
    });
    await expect(memory.addMany(['fine text', ''])).rejects.toMatchObject({ code: 'TEXT_EMPTY' });
    await expect(memory.add({ text: 'x', importance: 2 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(
      memory.add({ text: 'x', metadata: { a: { b: 1 } } as never }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(memory.add({ text: 'x', namespace: '' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(memory.update('nope', { text: 'y' })).rejects.toMatchObject({
      code: 'FRAGMENT_NOT_FOUND',
    });
    await expect(memory.delete('nope')).rejects.toMatchObject({ code: 'FRAGMENT_NOT_FOUND' });
    await expect(memory.reinforce(['nope'])).rejects.toMatchObject({ code: 'FRAGMENT_NOT_FOUND' });
    await expect(memory.history('nope')).rejects.toMatchObject({ code: 'FRAGMENT_NOT_FOUND' });
    await expect(memory.search('x', { k: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(memory.search('x', { k: 1e7 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(memory.search('x', { mode: 'fuzzy' as never })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(memory.search('')).rejects.toMatchObject({ code: 'TEXT_EMPTY' });
    expect(memory.size).toBe(before);
  });

  it('survives reopen, from its index file and from the changes recorded since', async () => {
    const dir = join(root, `persist-${impl}`);
    const m1 = await openMemory({ dir, native: impl, now });
    const added = await m1.addMany(FACTS);
    await m1.update(added[1]?.fragment.id as string, {
      metadata: { topic: 'backup', moved: true },
    });
    await m1.close();
    await expect(m1.search('x')).rejects.toMatchObject({ code: 'MEMORY_CLOSED' });
    await expect(m1.flush()).rejects.toMatchObject({ code: 'MEMORY_CLOSED' });
    // Bad options fail after the store was opened: it is closed again, not left locked.
    await expect(
      openMemory({ dir, native: impl, fusion: { method: 'best' as 'rrf' } }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(readdirSync(dir).filter((n) => !n.startsWith('memory.db-'))).toEqual(
      expect.arrayContaining(['index-1.bin', 'memory.db']),
    );

    const m2 = await openMemory({ dir, native: impl, now });
    expect(m2.size).toBe(FACTS.length);
    expect((await m2.get(added[1]?.fragment.id as string))?.metadata).toEqual({
      topic: 'backup',
      moved: true,
    });
    expect((await m2.search('peanut allergy', { k: 1 }))[0]?.fragment.text).toContain('peanuts');
    // Changes after the index file was written are in the database, not yet in the file.
    const extra = await m2.add('The spare key is under the blue flower pot');
    await m2.delete(added[4]?.fragment.id as string);
    await (m2 as unknown as { store: { close(): Promise<void> } }).store.close(); // simulated crash: no index file

    const m3 = await openMemory({ dir, native: impl, now });
    expect(m3.size).toBe(FACTS.length);
    expect((await m3.get(extra.fragment.id))?.text).toContain('spare key');
    expect(await m3.get(added[4]?.fragment.id as string)).toBeUndefined();
    expect((await m3.search('where is the spare key', { k: 1 }))[0]?.id).toBe(extra.fragment.id);
    expect((await m3.search('cello orchestra', { k: 6 })).map((r) => r.id)).not.toContain(
      added[4]?.fragment.id,
    );
    expect((await m3.history(added[4]?.fragment.id as string)).map((h) => h.kind)).toEqual([
      'add',
      'delete',
    ]);
    await m3.close();
  });

  it('records the embedder: another dimension needs an explicit re-embed', async () => {
    const dir = join(root, `embedder-${impl}`);
    const m1 = await openMemory({ dir, native: impl, dimension: 64 });
    await m1.addMany(FACTS);
    await m1.close();
    await expect(openMemory({ dir, native: impl, dimension: 128 })).rejects.toMatchObject({
      code: 'EMBEDDER_MISMATCH',
      message: expect.stringMatching(/or pass reembed: true to re-embed every fragment\.$/),
    });
    // An application names its own way to re-embed.
    await expect(
      openMemory({ dir, native: impl, dimension: 128, reembedHint: 'run `app reembed`' }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/or run `app reembed` to re-embed every fragment\.$/),
    });
    const events: number[] = [];
    const m2 = await openMemory({
      dir,
      native: impl,
      dimension: 128,
      reembed: true,
      onProgress: (e) => events.push(e.done),
    });
    expect(events.at(-1)).toBe(FACTS.length);
    expect(m2.stats().dimension).toBe(128);
    expect((await m2.search('cello', { k: 1, mode: 'vector' }))[0]?.fragment.text).toContain(
      'cello',
    );
    await m2.close();
    const m3 = await openMemory({ dir, native: impl, dimension: 128 });
    expect(m3.size).toBe(FACTS.length);
    await m3.close();
  });

  it('searches through the HNSW graph and reloads it without rebuilding', async () => {
    const dir = join(root, `graph-${impl}`);
    for (const hnsw of [{ m: 1 }, { m: 'x' }, { efConstruction: Number.NaN }, { seed: -1 }, 5]) {
      await expect(
        openMemory({ native: impl, hnsw: hnsw as unknown as { m: number } }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    const m1 = await openMemory({ dir, native: impl, hnsw: { m: 8, efConstruction: 40 } });
    const topics = ['wing flutter', 'boundary layer', 'heat transfer', 'shock waves', 'jet noise'];
    const texts = Array.from(
      { length: 300 },
      (_, i) => `note ${i} about ${topics[i % 5]} measured in run ${i * 7}`,
    );
    await m1.addMany(texts);
    expect(m1.stats().hnsw).toEqual({ m: 8, efConstruction: 40, seed: 42 });
    const before = await m1.search('shock waves run 21', { k: 5, mode: 'vector' });
    await m1.close();
    const m2 = await openMemory({ dir, native: impl, hnsw: { m: 8, efConstruction: 40 } });
    expect(m2.stats().hnsw).toEqual({ m: 8, efConstruction: 40, seed: 42 });
    expect(
      (await m2.search('shock waves run 21', { k: 5, mode: 'vector' })).map((r) => r.id),
    ).toEqual(before.map((r) => r.id));
    await m2.close();
  });
  it('builds a graph over many rows in the background, searching exactly meanwhile', async () => {
    const dir = join(root, `graph-background-${impl}`);
    // Natively about a second of building on one thread; in js about a second on the JS
    // thread, a millisecond at a time (see SearchIndexes.maybeBuildGraph).
    const hnsw = { m: 8, efConstruction: impl === 'native' ? 200 : 40, seed: 42 };
    const texts = Array.from(
      { length: 3000 },
      (_, i) => `entry ${i} on topic ${i % 37} with detail ${(i * 7919) % 1013}`,
    );
    const exactOnly = await openMemory({ dir, native: impl, hnsw: false });
    await exactOnly.addMany(texts);
    await exactOnly.close();

    // Asked for a graph over more than GRAPH_AT_ONCE_ROWS rows: built in the background,
    // and searches answer meanwhile.
    const m1 = await openMemory({ dir, native: impl, hnsw });
    expect(m1.indexOrigin).toBe('file');
    expect(m1.stats().hnsw).toBeNull();
    const exact = await m1.search(texts[700] as string, { k: 3, mode: 'vector' });
    expect(exact[0]?.fragment.text).toBe(texts[700]);
    const deadline = Date.now() + 60_000;
    while (m1.stats().hnsw === null && Date.now() < deadline) await sleep(10);
    expect(m1.stats().hnsw).toEqual(hnsw);
    const graph = await m1.search(texts[700] as string, { k: 3 });
    expect(graph[0]?.fragment.text).toBe(texts[700]);
    await m1.close();

    // A reader closing does not wait for the graph (the next open builds it again); a
    // writer closing while it is being built waits for it, and its checkpoint saves it.
    const reader = await openMemory({ dir, native: impl, hnsw });
    await reader.close();
    const writer = await openMemory({ dir, native: impl, hnsw });
    await writer.add('one more entry, added while the graph is being built');
    await writer.close();
    const m2 = await openMemory({ dir, native: impl, hnsw });
    expect(m2.indexOrigin).toBe('file');
    expect(m2.stats().hnsw).toEqual(hnsw);
    // (Whether the graph holds the rows added meanwhile: engine-compaction.test.ts; these
    // hashed vectors are too alike for a vector-only search through a graph this sparse.)
    const found = await m2.search('one more entry, added while the graph is being built', {
      k: 1,
    });
    expect(found[0]?.fragment.text).toBe('one more entry, added while the graph is being built');
    await m2.close();
  });
});

describe('memories written by one implementation open in the other', () => {
  const impls = testImplementations();
  it.runIf(impls.length === 2)('native then js', async () => {
    const dir = join(root, 'cross');
    const a = await openMemory({ dir, native: 'native', hnsw: true });
    await a.addMany(FACTS);
    const want = (await a.search('backup of photos', { k: 3 })).map((r) => r.id);
    await a.close();
    const b = await openMemory({ dir, native: 'js', hnsw: true });
    expect((await b.search('backup of photos', { k: 3 })).map((r) => r.id)).toEqual(want);
    await b.close();
  });
});

describe.each(testImplementations())('consolidation (%s)', (impl) => {
  it('clusters, merges near-duplicates keeping provenance, and links related fragments', async () => {
    const m = await openMemory({ native: impl, nearDuplicateThreshold: 2 });
    const texts = [
      'Alice prefers green tea in the morning',
      'Alice prefers green tea in the morning!',
      'Alice prefers green tea, in the morning',
      'Alice likes green tea in the mornings and black tea at night',
      'The backup of the photo library runs every Sunday',
      'The backup of the photo library runs each Sunday night',
      'Bob plays the cello in a community orchestra',
    ];
    const added = await m.addMany(
      texts.map((text, i) => ({ text, importance: i === 1 ? 0.9 : 0.5 })),
    );
    const ids = added.map((a) => a.fragment.id);
    const events: number[] = [];
    const task = m.consolidate({
      clusters: 3,
      mergeThreshold: 0.9,
      linkThreshold: 0.4,
      onProgress: (e) => events.push(e.done),
    });
    const report = await task.done;
    expect(report.cancelled).toBe(false);
    expect(report.clusters).toBe(3);
    expect(events.at(-1)).toBe(3);
    // The most important copy is kept; the others are merged into it.
    const merge = report.merged.find((x) => x.into === ids[1]);
    expect(merge?.from.sort()).toEqual([ids[0], ids[2]].sort());
    expect(await m.get(ids[0] as string)).toBeUndefined();
    expect((await m.get(ids[1] as string))?.mergedFrom.sort()).toEqual([ids[0], ids[2]].sort());
    expect((await m.history(ids[0] as string)).at(-1)?.note).toContain(`merged into ${ids[1]}`);
    expect((await m.get(ids[1] as string))?.links).toContain(ids[3]);
    expect(m.size).toBe(texts.length - 2);
    const bob = await m.get(ids[6] as string);
    expect(bob?.links ?? []).toEqual([]);
    // Deleting a linked fragment unlinks it, with a history entry saying so.
    await m.delete(ids[3] as string);
    expect((await m.get(ids[1] as string))?.links).not.toContain(ids[3]);
    expect((await m.history(ids[1] as string)).at(-1)?.note).toBe(`unlinked ${ids[3]} (deleted)`);
    // Cancelled before the first cluster: nothing happens.
    const t2 = m.consolidate();
    t2.cancel();
    expect((await t2.done).cancelled).toBe(true);
    // Bad options fail at the call, not inside a background task nobody may await.
    for (const bad of [{ clusters: 0 }, { seed: -1 }, { seed: Number.NaN }, { maxLinks: 1.5 }]) {
      expect(() => m.consolidate(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    expect(() => m.consolidate({ onProgress: 'x' as unknown as () => void })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    await m.close();
  });

  it('clusters alike in both engines', async () => {
    const engine = (await openMemory({ native: impl })).engine;
    const texts = [
      'wing flutter at transonic speed',
      'flutter of a swept wing',
      'wing flutter in wind tunnel tests',
      'heat transfer in laminar boundary layers',
      'boundary layer heat transfer with suction',
      'heat transfer to a flat plate boundary layer',
    ];
    const data = engine.embed(texts, 128);
    const { assignments } = await engine.kmeans(data, 128, 2, 20, 3);
    expect(assignments[0]).toBe(assignments[1]);
    expect(assignments[1]).toBe(assignments[2]);
    expect(assignments[3]).toBe(assignments[4]);
    expect(assignments[4]).toBe(assignments[5]);
    expect(assignments[0]).not.toBe(assignments[3]);
    await expect(engine.kmeans(data, 128, 7, 20, 3)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});
