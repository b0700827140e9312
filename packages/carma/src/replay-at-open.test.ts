import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryContext } from './context.js';
import { type Memory, type MemoryOptions, openMemory, type SearchOptions } from './memory.js';
import { BESIDE_MAX } from './rows-beside.js';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-replay-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const freshDir = () => join(root, `m${n++}`);

const TOPICS = ['ferry', 'garden', 'invoice', 'piano', 'bicycle', 'passport'];
const inputs = Array.from({ length: 80 }, (_, i) => ({
  text: `${TOPICS[i % TOPICS.length]} note ${i}: item w${i}x filed under ${TOPICS[(i * 7) % TOPICS.length]}`,
  namespace: i % 3 === 0 ? 'work' : 'home',
}));

const QUERIES: Array<[string, SearchOptions]> = [
  ['ferry note', { k: 5 }],
  ['piano w13x', { k: 3, mode: 'lexical' }],
  ['passport filed under garden', { k: 4, mode: 'vector' }],
  ['invoice', { k: 6, namespace: 'work' }],
  ['greenhouse tomatoes', { k: 3 }],
  ['greenhouse tomatoes', { k: 3, mode: 'vector' }],
  ['harbour crane', { k: 2, mode: 'vector', namespace: 'work' }],
];

/** The index files of a memory's directory (a checkpoint's three, with their checks). */
const indexFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^(index|lexical|labels)-\d+\.bin$/.test(f))
    .sort();

/** Whether new rows still go beside the index the memory read from its file. */
const indexesOf = (m: Memory) => (m as unknown as { ctx: MemoryContext }).ctx.indexes;
const fileIndexUntouched = (m: Memory) => indexesOf(m).keepsBeside(0);

/** A fixed clock: recency scores of two memories compare. */
const now = () => 1_800_000_000_000;

async function answers(memory: Memory) {
  const out = [];
  for (const [query, options] of QUERIES) {
    for (const r of await memory.search(query, options)) {
      out.push({ query, id: r.id, score: r.score, text: r.fragment.text });
    }
  }
  return out;
}

describe.each(testImplementations())('a few changes left for the next open (%s)', (impl) => {
  const open = (dir: string, options: MemoryOptions = {}) =>
    openMemory({ dir, native: impl, dimension: 64, now, replayLimit: 5, ...options });

  async function written(): Promise<string> {
    const dir = freshDir();
    const m = await open(dir, { replayLimit: 0 });
    await m.addMany(inputs);
    await m.close();
    expect(indexFiles(dir)).toHaveLength(3);
    return dir;
  }

  /** What the memory in `dir` answers rebuilt from its database alone (in a copy). */
  async function rebuilt(dir: string) {
    const copy = freshDir();
    // Not the lock of the memory open on `dir`: the copy is a database of its own.
    cpSync(dir, copy, { recursive: true, filter: (from) => !from.endsWith('.lock') });
    for (const f of indexFiles(copy)) rmSync(join(copy, f));
    const m = await open(copy);
    try {
      expect(m.indexOrigin).toBe('store');
      return await answers(m);
    } finally {
      await m.close();
    }
  }

  /** Opened again, the memory in `dir` holds `size` fragments and answers as rebuilt. */
  async function expectAsRebuilt(dir: string, size: number): Promise<void> {
    const reopened = await open(dir);
    try {
      expect(reopened.size).toBe(size);
      expect(await answers(reopened)).toEqual(await rebuilt(dir));
    } finally {
      await reopened.close();
    }
  }

  it('keeps the files when few fragments changed, and the next open answers with the changes', async () => {
    const dir = await written();
    const files = indexFiles(dir);
    const m = await open(dir);
    const all = await m.list();
    const idOf = (i: number) => all.find((f) => f.text === inputs[i]?.text)?.id as string;
    await m.update(idOf(4), { text: 'greenhouse tomatoes need water at dawn' });
    await m.delete(idOf(13));
    await m.addMany([
      { text: 'greenhouse tomatoes ripen in August', namespace: 'home' },
      { text: 'the harbour crane is inspected yearly', namespace: 'work' },
    ]);
    await m.close();
    // Four changes, within the limit of five: no file was written again.
    expect(indexFiles(dir)).toEqual(files);

    const reopened = await open(dir);
    try {
      expect(reopened.indexOrigin).toBe('file');
      expect(reopened.size).toBe(81);
      const got = await answers(reopened);
      expect(got).toEqual(await rebuilt(dir));
      const texts = got.map((a) => a.text);
      expect(texts).toContain('greenhouse tomatoes need water at dawn');
      expect(texts).toContain('greenhouse tomatoes ripen in August');
      expect(texts).toContain('the harbour crane is inspected yearly');
      expect(texts).not.toContain(inputs[4]?.text);
      expect(texts).not.toContain(inputs[13]?.text);
    } finally {
      await reopened.close();
    }
    // Opened to read: still the same files.
    expect(indexFiles(dir)).toEqual(files);
  });

  it('writes the files once the changes left over several closes pass the limit', async () => {
    const dir = await written();
    const files = indexFiles(dir);
    const first = await open(dir);
    await first.addMany([
      { text: 'greenhouse tomatoes one', namespace: 'home' },
      { text: 'greenhouse tomatoes two', namespace: 'home' },
      { text: 'greenhouse tomatoes three', namespace: 'home' },
    ]);
    await first.close();
    expect(indexFiles(dir)).toEqual(files);

    const second = await open(dir);
    await second.addMany([
      { text: 'harbour crane one', namespace: 'work' },
      { text: 'harbour crane two', namespace: 'work' },
      { text: 'harbour crane three', namespace: 'work' },
    ]);
    await second.close();
    // Six changes since the files: a new checkpoint.
    const after = indexFiles(dir);
    expect(after).toHaveLength(3);
    expect(after).not.toEqual(files);

    await expectAsRebuilt(dir, 86);
  });

  it('keeps the replayed changes through a write of the memory that replayed them', async () => {
    const dir = await written();
    const files = indexFiles(dir);
    const first = await open(dir);
    const [kept] = await first.addMany([{ text: 'greenhouse tomatoes ripen', namespace: 'home' }]);
    await first.close();

    const writer = await open(dir);
    try {
      // Searched beside the file's index, then taken into it by the write.
      const [before] = await writer.search('greenhouse tomatoes ripen', { k: 1 });
      expect(before?.id).toBe(kept?.fragment.id);
      const [added] = await writer.addMany([
        { text: 'greenhouse tomatoes rot', namespace: 'home' },
      ]);
      expect(added?.status).toBe('added');
      const found = await writer.search('greenhouse tomatoes', { k: 2, mode: 'vector' });
      expect(found.map((r) => r.id).sort()).toEqual([kept?.fragment.id, added?.fragment.id].sort());
    } finally {
      await writer.close();
    }
    expect(indexFiles(dir)).toEqual(files);
    await expectAsRebuilt(dir, 82);
  });

  it('writes the files at every close that changed something when the limit is 0', async () => {
    const dir = await written();
    const files = indexFiles(dir);
    const m = await open(dir, { replayLimit: 0 });
    await m.add({ text: 'greenhouse tomatoes', namespace: 'home' });
    await m.close();
    expect(indexFiles(dir)).not.toEqual(files);
  });

  it('adds, updates and deletes beside the index read from its file, which stays as read', async () => {
    const dir = await written();
    const m = await open(dir, { replayLimit: 10 });
    try {
      expect(fileIndexUntouched(m)).toBe(true);
      const all = await m.list();
      const idOf = (i: number) => all.find((f) => f.text === inputs[i]?.text)?.id as string;
      const [added] = await m.addMany([{ text: 'greenhouse tomatoes ripen', namespace: 'home' }]);
      // A fragment of the file changes text (and vector) under the same label.
      await m.update(idOf(7), { text: 'the harbour crane is inspected yearly' });
      await m.delete(idOf(13));
      expect(fileIndexUntouched(m)).toBe(true);
      const [ripe] = await m.search('greenhouse tomatoes ripen', { k: 1, mode: 'vector' });
      expect(ripe?.id).toBe(added?.fragment.id);
      // The updated fragment is found once, by its new vector only.
      const crane = await m.search('harbour crane inspected yearly', { k: 80, mode: 'vector' });
      expect(crane[0]?.id).toBe(idOf(7));
      expect(crane.filter((r) => r.id === idOf(7))).toHaveLength(1);
      const old = await m.search(inputs[7]?.text as string, { k: 3, mode: 'vector' });
      expect(old.map((r) => r.id)).not.toContain(idOf(7));
      expect(indexesOf(m).vectorCount).toBe(80);
      await m.delete(added?.fragment.id as string);
      const gone = await m.search('greenhouse tomatoes ripen', { k: 80, mode: 'vector' });
      expect(gone.map((r) => r.id)).not.toContain(added?.fragment.id);
    } finally {
      await m.close();
    }
    await expectAsRebuilt(dir, 79);
  });

  it('reports near-duplicates of rows added beside a graph', async () => {
    const dir = freshDir();
    const first = await open(dir, { replayLimit: 0, hnsw: true });
    await first.addMany(inputs);
    await first.close();
    const m = await open(dir, { hnsw: true });
    try {
      expect(m.stats().hnsw).not.toBeNull();
      const target = inputs[9]?.text as string;
      const [near] = await m.addMany([{ text: `${target}.`, namespace: inputs[9]?.namespace }]);
      expect(fileIndexUntouched(m)).toBe(true);
      const held = (await m.list()).find((f) => f.text === target);
      expect(near?.nearDuplicates[0]?.id).toBe(held?.id);
    } finally {
      await m.close();
    }
  });

  it('replays more changes than it keeps beside when few of them are left', async () => {
    const dir = await written();
    const files = indexFiles(dir);
    const m = await open(dir, { replayLimit: 100_000 });
    // Rounds of adds mostly deleted again: never many rows beside the file's index at once,
    // yet more changed fragments in all than go beside.
    const rounds = 3;
    const perRound = Math.ceil(BESIDE_MAX / rounds) + 10;
    try {
      for (let r = 0; r < rounds; r++) {
        const added = await m.addMany(
          Array.from({ length: perRound }, (_, i) => ({
            text: `orchard ${r} row ${i} of pears p${r}x${i}q`,
            namespace: 'home',
          })),
        );
        for (const { fragment } of added.slice(1)) await m.delete(fragment.id);
      }
      expect(fileIndexUntouched(m)).toBe(true);
    } finally {
      await m.close();
    }
    expect(indexFiles(dir)).toEqual(files);
    await expectAsRebuilt(dir, 80 + rounds);
  });

  it('adds to the index itself once more rows than it keeps beside come', async () => {
    const dir = await written();
    const m = await open(dir, { replayLimit: 1000 });
    const many = Array.from({ length: BESIDE_MAX + 10 }, (_, i) => ({
      text: `greenhouse row ${i} of tomatoes w${i}y`,
      namespace: 'home',
    }));
    try {
      await m.addMany(many.slice(0, 5));
      expect(fileIndexUntouched(m)).toBe(true);
      await m.addMany(many.slice(5));
      expect(fileIndexUntouched(m)).toBe(false);
      expect(indexesOf(m).vectorCount).toBe(80 + many.length);
      for (const i of [0, 4, 5, many.length - 1]) {
        const [hit] = await m.search(many[i]?.text as string, { k: 1, mode: 'vector' });
        expect(hit?.fragment.text).toBe(many[i]?.text);
      }
    } finally {
      await m.close();
    }
    await expectAsRebuilt(dir, 80 + many.length);
  });
});
