import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DataStore, openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FragmentStore } from './fragment-store.js';
import { MEMORY_DATABASE_FILE, type Memory, openMemory, type SearchOptions } from './memory.js';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-on-demand-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const freshDir = () => join(root, `m${n++}`);

const TOPICS = ['ferry', 'garden', 'invoice', 'piano', 'bicycle', 'passport'];
const texts = Array.from(
  { length: 60 },
  (_, i) =>
    `${TOPICS[i % TOPICS.length]} note ${i}: item w${i}x filed under ${TOPICS[(i * 7) % TOPICS.length]}`,
);
const inputs = texts.map((text, i) => ({
  text,
  namespace: i % 3 === 0 ? 'work' : 'home',
  metadata: { n: i, even: i % 2 === 0 },
  importance: (i % 5) / 5,
}));

const QUERIES: Array<[string, SearchOptions]> = [
  ['ferry note', { k: 5 }],
  ['piano w13x', { k: 3, mode: 'lexical' }],
  ['passport filed under garden', { k: 4, mode: 'vector' }],
  ['invoice', { k: 6, namespace: 'work' }],
  ['bicycle garden', { k: 5, explain: true }],
  // As Luna asks: the importance term needs no record but the label map's.
  ['garden note', { k: 6, importance: { weight: 0.3 }, explain: true }],
];

const labelMaps = (dir: string) => readdirSync(dir).filter((f) => /^labels-\d+\.bin$/.test(f));

/** What a search answers, without the access statistics it changes. */
async function answers(memory: Memory, queries = QUERIES) {
  const out = [];
  for (const [query, options] of queries) {
    for (const r of await memory.search(query, options)) {
      const { accessedAt: _at, accessCount: _count, ...fragment } = r.fragment;
      out.push({ query, id: r.id, score: r.score, fragment, explain: r.explain });
    }
  }
  return out;
}

/** A fixed clock: recency scores of two memories compare. */
const now = () => 1_800_000_000_000;

describe.each(testImplementations())('a memory opened from its checkpoint (%s)', (impl) => {
  /** Memories of one directory share its database, as the processes of a home do. */
  const stores = new Map<string, DataStore>();
  afterAll(async () => {
    for (const data of stores.values()) await data.close();
  });
  const open = async (dir: string) => {
    let data = stores.get(dir);
    if (!data) {
      data = await openDataStore({ path: join(dir, MEMORY_DATABASE_FILE), native: impl });
      stores.set(dir, data);
    }
    return openMemory({ dir, data, native: impl, dimension: 64, now });
  };

  /** The memory in `dir` opened reading every record (its label map removed first). */
  async function openFully(dir: string): Promise<Memory> {
    for (const name of labelMaps(dir)) rmSync(join(dir, name));
    const memory = await open(dir);
    expect(memory.allLoaded).toBe(true);
    return memory;
  }

  async function written(): Promise<string> {
    const dir = freshDir();
    const m = await openMemory({ dir, native: impl, dimension: 64, now });
    await m.addMany(inputs);
    await m.close(); // writes the checkpoint, its label map with it
    expect(labelMaps(dir)).toHaveLength(1);
    return dir;
  }

  it('answers from its files and reads only the results, as a full open answers', async () => {
    const dir = await written();
    const m = await open(dir);
    const full = await openFully(dir);
    try {
      expect(m.allLoaded).toBe(false);
      expect(m.size).toBe(60);
      expect(m.namespaces()).toEqual({ work: 20, home: 40 });
      expect(m.stats()).toMatchObject({ fragments: 60, namespaces: { work: 20, home: 40 } });
      const expected = await answers(full);
      expect(expected.length).toBeGreaterThan(15);
      expect(await answers(m)).toEqual(expected);
      // Nothing above needed every record.
      expect(m.allLoaded).toBe(false);
    } finally {
      await m.close();
      await full.close();
    }
  });

  it('takes in what other writers changed since the checkpoint', async () => {
    const dir = await written();
    const writer = await open(dir);
    const all = await writer.list();
    const byText = (text: string) => all.find((f) => f.text === text)?.id as string;
    await writer.update(byText(texts[4] as string), { text: 'piano tuning moved to Friday w4x' });
    await writer.update(byText(texts[9] as string), { metadata: { n: 9, moved: true } });
    await writer.reinforce(byText(texts[20] as string), 0.5);
    await writer.delete(byText(texts[13] as string));
    await writer.delete(byText(texts[0] as string));
    await writer.addMany([
      { text: 'ferry timetable for the winter w100x', namespace: 'work' },
      { text: 'a new namespace holds this passport copy', namespace: 'travel' },
    ]);
    // Not closed: its changes are in no checkpoint yet.
    const m = await open(dir);
    const full = await openFully(dir);
    try {
      expect(m.allLoaded).toBe(false);
      expect(m.size).toBe(60);
      expect(m.namespaces()).toEqual({ work: 20, home: 39, travel: 1 });
      const queries: Array<[string, SearchOptions]> = [
        ...QUERIES,
        ['piano tuning Friday', { k: 3 }],
        ['ferry timetable winter', { k: 3, namespace: 'work' }],
        ['passport copy', { k: 2, namespace: 'travel' }],
        ['w13x', { k: 3, mode: 'lexical' }],
      ];
      const expected = await answers(full, queries);
      expect(await answers(m, queries)).toEqual(expected);
      const texts = expected.map((a) => a.fragment.text);
      expect(texts).toContain('piano tuning moved to Friday w4x');
      expect(texts).toContain('ferry timetable for the winter w100x');
      expect(texts).not.toContain(inputs[13]?.text);
      expect(m.allLoaded).toBe(false);
    } finally {
      await m.close();
      await full.close();
      await writer.close();
    }
  });

  it('finds ids by their start or end without reading every record', async () => {
    const dir = await written();
    const writer = await open(dir);
    const all = await writer.list();
    const byText = (text: string) => all.find((f) => f.text === text)?.id as string;
    const updated = byText(texts[4] as string);
    const deleted = byText(texts[13] as string);
    await writer.update(updated, { text: 'piano tuning moved to Friday w4x' });
    await writer.delete(deleted);
    const [added] = await writer.addMany(['a ferry timetable for the winter w100x']);
    const m = await open(dir);
    const full = await openFully(dir);
    try {
      expect(m.allLoaded).toBe(false);
      const held = (await full.list()).map((f) => f.id);
      const matching = (part: string) =>
        held.filter((id) => id.startsWith(part) || id.endsWith(part)).sort();
      const addedId = added?.fragment.id as string;
      for (const part of [updated.slice(-8), addedId.slice(-8), held[7]?.slice(-12) as string]) {
        expect(m.idsWithPart(part), part).toEqual(matching(part));
        expect(m.idsWithPart(part)).toHaveLength(1);
      }
      expect(m.idsWithPart(deleted.slice(-8))).toEqual([]);
      expect(m.idsWithPart(deleted)).toEqual([]);
      // A start shared by a batch matches each fragment once, changed ones included.
      const start = updated.slice(0, 6);
      expect(m.idsWithPart(start).sort()).toEqual(matching(start));
      expect(matching(start).length).toBeGreaterThan(1);
      expect(full.idsWithPart(start).sort()).toEqual(matching(start));
      expect(() => m.idsWithPart('')).toThrow(/part/);
      expect(m.allLoaded).toBe(false);
    } finally {
      await m.close();
      await full.close();
      await writer.close();
    }
  });

  it('reads every record for a filter and a listing', async () => {
    const dir = await written();
    const full = await openFully(dir);
    try {
      const filtered: Array<[string, SearchOptions]> = [
        ['note', { k: 8, filter: { even: true } }],
        ['garden', { k: 5, recency: { weight: 0.2, halfLifeMs: 86_400_000 } }],
      ];
      const byFilter = await open(dir);
      expect(await answers(byFilter, filtered)).toEqual(await answers(full, filtered));
      expect(byFilter.allLoaded).toBe(true);
      await byFilter.close();

      const byList = await open(dir);
      expect((await byList.list({ namespace: 'work' })).map((f) => f.text)).toEqual(
        (await full.list({ namespace: 'work' })).map((f) => f.text),
      );
      expect(byList.allLoaded).toBe(true);
      await byList.close();
    } finally {
      await full.close();
    }
  });

  it('deletes without reading every record, unlinking the fragments that link to it', async () => {
    const dir = freshDir();
    const linked = await openMemory({ dir, native: impl, dimension: 64, now });
    const added = await linked.addMany([
      ...inputs,
      { text: 'Alice prefers green tea in the morning', namespace: 'home' },
      { text: 'Alice likes green tea in the mornings and black tea at night', namespace: 'home' },
    ]);
    const [tea, teaToo] = added.slice(-2).map((a) => a.fragment.id) as [string, string];
    const report = await linked.consolidate({ clusters: 4, linkThreshold: 0.3 }).done;
    expect(report.cancelled).toBe(false);
    const linking = (await linked.list()).filter((f) => f.links.includes(tea));
    expect(linking.length).toBeGreaterThan(0);
    await linked.close();

    const m = await open(dir);
    try {
      expect(m.allLoaded).toBe(false);
      const [hit] = await m.search('piano w13x', { k: 1, mode: 'lexical' });
      await m.delete(hit?.id as string);
      await m.delete(tea);
      expect(m.allLoaded).toBe(false);
      expect(await m.get(tea)).toBeUndefined();
      for (const f of linking) {
        const now = await m.get(f.id);
        expect(now?.links).not.toContain(tea);
        expect((await m.history(f.id)).at(-1)?.note).toBe(`unlinked ${tea} (deleted)`);
      }
      expect(m.allLoaded).toBe(false);
      const full = await openFully(dir);
      try {
        expect(await answers(m)).toEqual(await answers(full));
        for (const f of linking) expect((await full.get(f.id))?.links).not.toContain(tea);
        expect(await full.get(teaToo)).toBeDefined();
      } finally {
        await full.close();
      }
    } finally {
      await m.close();
    }
  });

  it('adds without reading every record, and checkpoints from its label map', async () => {
    const dir = await written();
    const m = await open(dir);
    try {
      // Stored already in its namespace: found, whose record had not been read.
      const again = await m.add(inputs[7] as (typeof inputs)[number]);
      expect(again.status).toBe('duplicate');
      expect(again.fragment.text).toBe(inputs[7]?.text);
      expect(again.fragment.metadata).toEqual(inputs[7]?.metadata);
      // The same text in another namespace is a fragment of its own there.
      const elsewhere = await m.add({ text: inputs[7]?.text as string, namespace: 'archive' });
      expect(elsewhere.status).toBe('added');
      const batch = await m.addMany([
        { text: 'garden hose stored in the shed', namespace: 'home' },
        { text: 'garden hose stored in the shed', namespace: 'home' },
        { text: inputs[8]?.text as string, namespace: inputs[8]?.namespace as string },
        // Added by this memory a moment ago: a duplicate as well.
        { text: inputs[7]?.text as string, namespace: 'archive' },
      ]);
      expect(batch.map((r) => r.status)).toEqual(['added', 'duplicate', 'duplicate', 'duplicate']);
      expect(batch[3]?.fragment.id).toBe(elsewhere.fragment.id);
      expect(m.allLoaded).toBe(false);
      expect(m.size).toBe(62);
      expect(m.namespaces()).toEqual({ work: 20, home: 41, archive: 1 });
      const [hose] = await m.search('garden hose shed', { k: 1 });
      expect(hose?.id).toBe(batch[0]?.fragment.id);
      expect(m.allLoaded).toBe(false);
    } finally {
      await m.close();
    }
    // The checkpoint of the close was written from the map and what was added.
    expect(labelMaps(dir)).toHaveLength(1);
    const reopened = await open(dir);
    const full = await openFully(dir);
    try {
      expect(reopened.allLoaded).toBe(false);
      expect(reopened.size).toBe(62);
      const queries: Array<[string, SearchOptions]> = [
        ...QUERIES,
        ['garden hose shed', { k: 2 }],
        ['w7x', { k: 3, mode: 'lexical', namespace: 'archive' }],
      ];
      expect(await answers(reopened, queries)).toEqual(await answers(full, queries));
      // Its map finds the texts added before it was written.
      const dup = await reopened.add({ text: 'garden hose stored in the shed', namespace: 'home' });
      expect(dup.status).toBe('duplicate');
      expect(reopened.allLoaded).toBe(false);
    } finally {
      await reopened.close();
      await full.close();
    }
  });

  it('updates and reinforces without reading every record', async () => {
    const dir = await written();
    const m = await open(dir);
    try {
      const [piano] = await m.search('piano w13x', { k: 1, mode: 'lexical' });
      const [ferry] = await m.search('ferry note 0', { k: 1, mode: 'lexical' });
      const [other] = await m.search('bicycle w4x', { k: 1, mode: 'lexical' });
      const updated = await m.update(piano?.id as string, { text: 'piano lesson moved w13x' });
      expect(updated.version).toBe(2);
      // A text another fragment of the namespace holds is refused, its record unread.
      const home = inputs.find(
        (f) => f.namespace === ferry?.fragment.namespace && f.text !== ferry?.fragment.text,
      );
      await expect(
        m.update(ferry?.id as string, { text: home?.text as string }),
      ).rejects.toMatchObject({ code: 'DUPLICATE_CONTENT' });
      const [reinforced] = await m.reinforce([other?.id as string, other?.id as string], 0.25);
      expect(reinforced?.importance).toBeCloseTo(
        Math.min(1, (other?.fragment.importance ?? 0) + 0.5),
      );
      expect(reinforced?.reinforcements).toBe(2);
      await expect(m.reinforce('no-such-id')).rejects.toMatchObject({ code: 'FRAGMENT_NOT_FOUND' });
      // A lookup reads the one record.
      expect((await m.get(piano?.id as string))?.text).toBe('piano lesson moved w13x');
      expect((await m.get(ferry?.id as string))?.version).toBe(1);
      expect(await m.get('no-such-id')).toBeUndefined();
      expect(m.allLoaded).toBe(false);
      const full = await openFully(dir);
      try {
        const queries: Array<[string, SearchOptions]> = [
          ...QUERIES,
          ['piano lesson moved', { k: 3 }],
          ['bicycle w4x', { k: 3, importance: { weight: 0.5 }, explain: true }],
        ];
        expect(await answers(m, queries)).toEqual(await answers(full, queries));
        expect((await full.get(other?.id as string))?.reinforcements).toBe(2);
        expect(m.allLoaded).toBe(false);
      } finally {
        await full.close();
      }
    } finally {
      await m.close();
    }
    const reopened = await open(dir);
    expect(reopened.allLoaded).toBe(false);
    const [hit] = await reopened.search('piano lesson moved', { k: 1 });
    expect(hit?.fragment.text).toBe('piano lesson moved w13x');
    await reopened.close();
  });

  it('takes in what another writer changes while it answers from its map', async () => {
    const dir = await written();
    const m = await open(dir);
    const writer = await open(dir);
    try {
      await m.search('ferry note', { k: 3 }); // the results' records at hand
      const all = await writer.list();
      const byText = (text: string) => all.find((f) => f.text === text)?.id as string;
      await writer.update(byText(texts[0] as string), { text: 'ferry leaves at noon w0x' });
      await writer.update(byText(texts[6] as string), { importance: 0.9 });
      await writer.delete(byText(texts[12] as string));
      await writer.add({ text: 'ferry pass renewed online', namespace: 'travel' });
      // A write of its own beside them: caught up before and after it.
      const own = await m.add({ text: 'ferry seats booked by phone', namespace: 'home' });
      expect(own.status).toBe('added');
      const dup = await m.add({ text: 'ferry pass renewed online', namespace: 'travel' });
      expect(dup.status).toBe('duplicate');
      expect(m.allLoaded).toBe(false);
      expect(m.size).toBe(61);
      expect(m.namespaces()).toEqual({ work: 19, home: 41, travel: 1 });
      const full = await openFully(dir);
      try {
        const queries: Array<[string, SearchOptions]> = [
          ...QUERIES,
          ['ferry noon', { k: 4 }],
          ['ferry pass seats', { k: 4, mode: 'lexical' }],
          ['w12x', { k: 2, mode: 'lexical' }],
        ];
        const expected = await answers(full, queries);
        expect(await answers(m, queries)).toEqual(expected);
        const found = expected.map((a) => a.fragment.text);
        expect(found).toContain('ferry leaves at noon w0x');
        expect(found).not.toContain(texts[12]);
        expect(m.allLoaded).toBe(false);
      } finally {
        await full.close();
      }
    } finally {
      await writer.close();
      await m.close();
    }
  });

  it('sees a write of another memory at its next search', async () => {
    const dir = await written();
    const m = await open(dir);
    const other = await open(dir);
    try {
      expect(m.allLoaded).toBe(false);
      await other.add({ text: 'the boiler service is booked for March', namespace: 'home' });
      const [hit] = await m.search('boiler service March', { k: 1 });
      expect(hit?.fragment.text).toBe('the boiler service is booked for March');
      expect(m.size).toBe(61);
    } finally {
      await other.close();
      await m.close();
    }
  });

  it('counts the accesses of the results it read', async () => {
    const dir = await written();
    const m = await open(dir);
    const [first] = await m.search('piano w13x', { k: 1, mode: 'lexical' });
    const [second] = await m.search('piano w13x', { k: 1, mode: 'lexical' });
    expect(first?.id).toBe(second?.id);
    expect(second?.fragment.accessCount).toBe((first?.fragment.accessCount ?? 0) + 1);
    expect(m.allLoaded).toBe(false);
    await m.close();
    const reopened = await open(dir);
    expect((await reopened.get(first?.id as string))?.accessCount).toBe(2);
    await reopened.close();
  });

  it('reads every record when the label map is damaged, missing or of other files', async () => {
    const dir = await written();
    const full = await openFully(dir);
    const expected = await answers(full);
    await full.close();
    const [name] = labelMaps(dir);
    const path = join(dir, name as string);
    const good = readFileSync(path);

    const flipped = Buffer.from(good);
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] as number) ^ 0x20;
    writeFileSync(path, flipped);
    const damaged = await open(dir);
    expect(damaged.allLoaded).toBe(true);
    expect(await answers(damaged)).toEqual(expected);
    await damaged.close();

    writeFileSync(path, good.subarray(0, good.length - 7));
    const truncated = await open(dir);
    expect(truncated.allLoaded).toBe(true);
    expect(await answers(truncated)).toEqual(expected);
    await truncated.close();

    rmSync(path);
    // A checkpoint without a label map (written by a version before them) gets one from
    // the first open that finds the files as they are; the next open uses it.
    const migrating = await open(dir);
    expect(migrating.allLoaded).toBe(true);
    await migrating.close();
    expect(existsSync(path)).toBe(true);
    const onDemand = await open(dir);
    expect(onDemand.allLoaded).toBe(false);
    expect(await answers(onDemand)).toEqual(expected);
    await onDemand.close();
  });

  it('gives fragments sharing a label their own once it reads every record', async () => {
    const dir = await written();
    const data = await open(dir).then(async (m) => {
      await m.close();
      return stores.get(dir) as DataStore;
    });
    // Labels changed without history (as versions that handed labels out themselves could
    // leave them): the label map cannot know of it.
    const stored = await data.fragments.list({ limit: 100, vectors: false });
    const byLabel = [...stored].sort(
      (x, y) => (x.attributes.label as number) - (y.attributes.label as number),
    );
    await data.fragments.put(
      byLabel.slice(50).map((f, i) => ({
        ...f,
        attributes: { ...f.attributes, label: byLabel[i]?.attributes.label as number },
      })),
      { keepVectors: true },
    );
    const m = await open(dir);
    expect(m.allLoaded).toBe(false);
    await m.loadAll();
    expect(m.size).toBe(60);
    for (const input of inputs) {
      for (const mode of ['lexical', 'vector'] as const) {
        const [hit] = await m.search(input.text, { k: 1, mode });
        expect(hit?.fragment.text, mode).toBe(input.text);
      }
    }
    const moved = [];
    for (const f of byLabel) {
      const last = (await m.history(f.id)).at(-1);
      if (last?.note?.includes('new index label')) moved.push(f.id);
    }
    expect(moved).toHaveLength(10);
    await m.close();
    const reopened = await open(dir);
    expect(reopened.allLoaded).toBe(false);
    for (const input of inputs.slice(0, 12)) {
      const [hit] = await reopened.search(input.text, { k: 1, mode: 'lexical' });
      expect(hit?.fragment.text).toBe(input.text);
    }
    await reopened.close();
  });

  it('answers searches from the label map while it reads every record', async () => {
    const dir = freshDir();
    const first = await openMemory({ dir, native: impl, dimension: 64, now });
    await first.addMany(Array.from({ length: 6_000 }, (_, i) => `logbook entry ${i} code z${i}q`));
    await first.close();
    const m = await open(dir);
    expect(m.allLoaded).toBe(false);
    // A slow store: each page of records takes 100 ms to arrive.
    const store = (m as unknown as { store: FragmentStore }).store;
    const readPage = store.readPage.bind(store);
    store.readPage = async (after, limit) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return readPage(after, limit);
    };
    const order: string[] = [];
    const loading = m.loadAll().then(() => order.push('loaded'));
    const [hit] = await m.search('z4321q', { k: 1, mode: 'lexical' });
    order.push('searched');
    await loading;
    expect(hit?.fragment.text).toBe('logbook entry 4321 code z4321q');
    expect(order).toEqual(['searched', 'loaded']);
    expect(m.allLoaded).toBe(true);
    expect((await m.search('z4321q', { k: 1, mode: 'lexical' }))[0]?.id).toBe(hit?.id);
    await m.close();
  });

  it('keeps the label map of the checkpoint only', async () => {
    const dir = await written();
    const m = await open(dir);
    await m.add({ text: 'the spare tyre is in the garage', namespace: 'home' });
    await m.close();
    expect(labelMaps(dir)).toHaveLength(1);
    const reopened = await open(dir);
    expect(reopened.allLoaded).toBe(false);
    const [hit] = await reopened.search('spare tyre garage', { k: 1 });
    expect(hit?.fragment.text).toBe('the spare tyre is in the garage');
    await reopened.close();
  });
});
