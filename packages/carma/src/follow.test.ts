import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DataStore, implementation as dataImplementation, openDataStore } from '@aios/data';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MemoryContext } from './context.js';
import { MEMORY_DATABASE_FILE, openMemory } from './memory.js';

const here = dirname(fileURLToPath(import.meta.url));
const writer = join(here, '../test/follow-writer.mjs');

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-follow-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const freshDir = () => join(root, `m${n++}`);

const impls = testImplementations();
const nativeLoads = dataImplementation('auto').implementation === 'native';
if (impls.includes('native') && !nativeLoads) {
  console.warn('follow.test.ts: no native binary here; the cross-process cases are skipped');
}

/** Every label the database holds for CARMA's fragments. */
async function storedLabels(data: DataStore): Promise<number[]> {
  const labels: number[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await data.fragments.list({
      limit: 1000,
      vectors: false,
      ...(after ? { after } : {}),
    });
    for (const f of page) labels.push(f.attributes.label as number);
    if (page.length < 1000) return labels;
    after = page[page.length - 1]?.id;
  }
}

const distinct = (labels: number[]) => new Set(labels).size === labels.length;

describe.each(impls)('memories on one database (%s)', (impl) => {
  it('takes in a change again after a catch-up failed halfway through indexing it', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const a = await openMemory({ data, native: impl });
    const b = await openMemory({ data, native: impl });
    const id = (await a.add('the ferry timetable changes in October')).fragment.id;
    // The next read of vectors fails once: b has the record, not yet the vector.
    const { fragments } = data;
    const getMany = fragments.getMany.bind(fragments);
    let failures = 1;
    fragments.getMany = (ids, options) => {
      if (options?.vectors !== false && failures-- > 0) {
        return Promise.reject(new Error('disk hiccup'));
      }
      return getMany(ids, options);
    };
    await expect(b.search('ferry timetable', { k: 1, mode: 'vector' })).rejects.toThrow(
      'disk hiccup',
    );
    for (const mode of ['vector', 'lexical'] as const) {
      const [hit] = await b.search('ferry timetable October', { k: 1, mode });
      expect(hit?.id, mode).toBe(id);
    }
    expect((await b.get(id))?.text).toBe('the ferry timetable changes in October');
    await a.close();
    await b.close();
    await data.close();
  });

  it('takes in the fragments of an add whose indexing failed after they were stored', async () => {
    const memory = await openMemory({ native: impl, dimension: 64 });
    await memory.add('the library opens at nine');
    const vectors = (memory as unknown as { ctx: MemoryContext }).ctx.indexes.vectors;
    if (vectors === undefined) throw new Error('no vector index');
    vi.spyOn(vectors, 'addAsync').mockRejectedValueOnce(new Error('out of memory'));
    const texts = ['the ferry timetable changes in October', 'the bakery sells rye bread'];
    await expect(memory.addMany(texts)).rejects.toThrow('out of memory');
    // Stored all the same: the next call takes them in, indexed both ways, once.
    for (const mode of ['vector', 'lexical'] as const) {
      const [hit] = await memory.search('ferry timetable October', { k: 1, mode });
      expect(hit?.fragment.text, mode).toBe(texts[0]);
    }
    expect(memory.size).toBe(3);
    const again = await memory.addMany(texts);
    expect(again.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect(memory.size).toBe(3);
    await memory.close();
  });

  it("search beside the memory's own write without waiting for it, but not past another's", async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const a = await openMemory({ data, native: impl });
    const b = await openMemory({ data, native: impl });
    await a.add('the orchard is pruned in late winter');
    const vectors = (a as unknown as { ctx: MemoryContext }).ctx.indexes.vectors;
    if (vectors === undefined) throw new Error('no vector index');
    // a's next write is stored, then held before it is indexed.
    const addAsync = vectors.addAsync.bind(vectors);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let indexing = () => {};
    const stored = new Promise<void>((resolve) => {
      indexing = resolve;
    });
    vi.spyOn(vectors, 'addAsync').mockImplementationOnce(async (labels, rows) => {
      // Indexing starts inside the write's transaction; the write is done by the next turn.
      setImmediate(indexing);
      await held;
      return addAsync(labels, rows);
    });
    const writing = a.add('the lighthouse keeper logs the tide at dawn');
    await stored;
    // Its own row is in the database, not yet in its state: the search answers at once.
    const [beside] = await a.search('orchard pruned winter', { k: 1, mode: 'lexical' });
    expect(beside?.fragment.text).toBe('the orchard is pruned in late winter');
    // A row of another memory's is not its own: the search waits to take it in.
    await b.add('the well is tested for nitrates each spring');
    let answered = false;
    const after = a.search('well nitrates spring', { k: 1, mode: 'lexical' }).then((hits) => {
      answered = true;
      return hits;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    release();
    await writing;
    expect((await after)[0]?.fragment.text).toBe('the well is tested for nitrates each spring');
    const [own] = await a.search('lighthouse keeper tide', { k: 1, mode: 'lexical' });
    expect(own?.fragment.text).toBe('the lighthouse keeper logs the tide at dawn');
    await a.close();
    await b.close();
    await data.close();
  });

  it('see what another adds, changes and deletes', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const a = await openMemory({ data, native: impl });
    const b = await openMemory({ data, native: impl });
    await b.add('the orchard is pruned in late winter');
    const added = await a.add('the lighthouse keeper logs the tide at dawn');
    const id = added.fragment.id;
    for (const mode of ['lexical', 'vector', 'hybrid'] as const) {
      const [hit] = await b.search('lighthouse keeper tide', { k: 1, mode });
      expect(hit?.id, mode).toBe(id);
    }
    await a.update(id, { text: 'the lighthouse keeper logs the storm at dusk' });
    const [changed] = await b.search('storm at dusk', { k: 1, mode: 'lexical' });
    expect(changed?.fragment.text).toBe('the lighthouse keeper logs the storm at dusk');
    expect(await b.search('tide dawn', { k: 5, mode: 'lexical' })).toEqual([]);
    await a.reinforce(id, 0.3);
    await b.refresh();
    expect((await b.get(id))?.importance).toBeCloseTo(0.8, 10);
    await a.delete(id);
    expect((await b.search('lighthouse keeper', { k: 5 })).map((r) => r.id)).not.toContain(id);
    expect(await b.get(id)).toBeUndefined();
    expect(b.size).toBe(1);
    // And the other way round: b's write reaches a before a's next write.
    const fromB = await b.add('the well is tested for nitrates each spring');
    await a.add('the bees are moved to the heather in August');
    expect((await a.get(fromB.fragment.id))?.text).toBe(
      'the well is tested for nitrates each spring',
    );
    expect(distinct(await storedLabels(data))).toBe(true);
    await a.close();
    await b.close();
    await data.close();
  });

  it('take back what a rolled-back transaction of the store held, and miss nothing after', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const m = await openMemory({ data, native: impl });
    const other = await openMemory({ data, native: impl });
    const kept = await m.add('the ferry leaves at seven');
    await expect(
      data.transaction(async () => {
        await m.add('a note that is rolled back');
        await m.reinforce(kept.fragment.id, 0.4);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    // Another writer now gets the history positions the rolled-back rows had, and more.
    const [late] = await other.addMany([
      'the ferry is late on Sundays',
      'the ferry carries bicycles for free',
      'the ferry stops at the island twice',
    ]);
    const hits = (await m.search('ferry note rolled back', { k: 10 })).map((r) => r.fragment.text);
    expect(hits).toContain('the ferry is late on Sundays');
    expect(hits).toContain('the ferry carries bicycles for free');
    expect(hits).not.toContain('a note that is rolled back');
    expect(m.size).toBe(4);
    expect((await m.get(kept.fragment.id))?.importance).toBe(0.5);
    expect(await m.get(late?.fragment.id as string)).toBeDefined();
    await m.close();
    await other.close();
    await data.close();
  });

  it('trust their own writes once the transaction that held them committed', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const m = await openMemory({ data, native: impl });
    const other = await openMemory({ data, native: impl });
    await m.add('the tide tables are printed in March');
    const reads: string[][] = [];
    const getMany = data.fragments.getMany.bind(data.fragments);
    data.fragments.getMany = (ids, options) => {
      reads.push([...ids]);
      return getMany(ids, options);
    };
    const texts = Array.from({ length: 50 }, (_, i) => `harbour log entry ${i} h${i}x`);
    await data.transaction(async () => {
      await m.addMany(texts);
    });
    await m.refresh();
    // Neither inside the transaction nor after its commit were the rows read back.
    expect(reads).toEqual([]);
    expect(m.size).toBe(51);
    // A rolled-back transaction of the store (another memory's) makes the next look
    // compare again, and what was committed stays.
    await expect(
      data.transaction(async () => {
        await other.add('a log entry that is taken back');
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    await m.refresh();
    data.fragments.getMany = getMany;
    const [hit] = await m.search('h17x', { k: 1, mode: 'lexical' });
    expect(hit?.fragment.text).toBe('harbour log entry 17 h17x');
    expect(await m.search('taken back', { k: 5, mode: 'lexical' })).toEqual([]);
    expect(m.size).toBe(51);
    await m.close();
    await other.close();
    await data.close();
  });

  it('hand out distinct labels when adding at the same time', async () => {
    const data = await openDataStore({ path: ':memory:', native: impl });
    const a = await openMemory({ data, native: impl });
    const b = await openMemory({ data, native: impl });
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        [a, b].map((m, who) =>
          m.addMany(
            Array.from(
              { length: 40 },
              (_, i) => `writer ${who} round ${round} note ${i} w${who}r${round}n${i}`,
            ),
          ),
        ),
      );
    }
    const labels = await storedLabels(data);
    expect(labels).toHaveLength(240);
    expect(distinct(labels)).toBe(true);
    for (const m of [a, b]) {
      for (const marker of ['w0r2n39', 'w1r0n0', 'w1r1n17']) {
        const [hit] = await m.search(marker, { k: 1, mode: 'lexical' });
        expect(hit?.fragment.text).toContain(marker);
      }
      expect(m.size).toBe(240);
    }
    await a.close();
    await b.close();
    await data.close();
  });

  it('gives new labels to fragments that share one (written by processes adding at once)', async () => {
    const dir = freshDir();
    const texts = Array.from({ length: 12 }, (_, i) => `field notebook page ${i} entry p${i}q`);
    const first = await openMemory({ dir, native: impl, dimension: 64 });
    await first.addMany(texts);
    await first.close(); // writes the index file
    // What two processes handing out labels from their own counters left: pairs of
    // fragments with one label.
    const data = await openDataStore({ path: join(dir, MEMORY_DATABASE_FILE), native: impl });
    const stored = await data.fragments.list({ limit: 100 });
    const byLabel = [...stored].sort(
      (x, y) => (x.attributes.label as number) - (y.attributes.label as number),
    );
    await data.fragments.put(
      byLabel.slice(6).map((f, i) => ({
        ...f,
        attributes: { ...f.attributes, label: byLabel[i]?.attributes.label as number },
      })),
      { meta: { 'carma.next_label': 6 } },
    );
    expect(distinct(await storedLabels(data))).toBe(false);
    await data.close();
    // As the versions that handed labels out so left them: without label maps (the
    // labels were changed above without history, which a label map cannot know of).
    for (const name of readdirSync(dir)) if (name.startsWith('labels-')) rmSync(join(dir, name));

    const reopened = await openMemory({ dir, native: impl, dimension: 64 });
    expect(reopened.size).toBe(12);
    for (const [i, text] of texts.entries()) {
      for (const mode of ['lexical', 'vector'] as const) {
        const [hit] = await reopened.search(`p${i}q ${text}`, { k: 1, mode });
        expect(hit?.fragment.text, `${mode} ${i}`).toBe(text);
      }
    }
    const added = await reopened.add('a page added after the repair');
    expect(await reopened.get(added.fragment.id)).toBeDefined();
    // One fragment of each pair moved to a new label, with an entry in its history: the
    // one with the higher id, whatever order the store hands them over in.
    const moved: string[] = [];
    for (const f of stored) {
      const last = (await reopened.history(f.id)).at(-1);
      if (last?.kind === 'update') {
        expect(last).toMatchObject({
          version: 2,
          note: expect.stringContaining('new index label'),
        });
        moved.push(f.id);
      }
    }
    const higher = byLabel.slice(0, 6).map((f, i) => [f.id, byLabel[6 + i]?.id].sort()[1]);
    expect(moved.sort()).toEqual(higher.sort());
    await reopened.close();
    const check = await openDataStore({ path: join(dir, MEMORY_DATABASE_FILE), native: impl });
    const labels = await storedLabels(check);
    expect(labels).toHaveLength(13);
    expect(distinct(labels)).toBe(true);
    await check.close();
  });
});

interface Writer {
  child: ChildProcessWithoutNullStreams;
  acked(batch: number): Promise<void>;
  exit: Promise<number | null>;
}

function startWriter(dir: string, tag: string, batches: number, hold = false): Writer {
  const child = spawn(process.execPath, [
    writer,
    dir,
    'native',
    tag,
    String(batches),
    hold ? 'hold' : '',
  ]);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const acked = (batch: number) =>
    new Promise<void>((resolve, reject) => {
      const look = () => {
        if (out.includes(`ack ${batch}\n`)) resolve();
      };
      child.stdout.on('data', look);
      look();
      exit.then((code) =>
        reject(new Error(`writer ${tag} exited ${code} before ack ${batch}: ${err}`)),
      );
    });
  return { child, acked, exit };
}

describe.runIf(impls.includes('native') && nativeLoads)('memories in several processes', () => {
  beforeAll(() => {
    if (!existsSync(join(here, '../dist/index.js'))) {
      throw new Error(
        'follow.test.ts runs the built package: run `pnpm --filter @aios/carma build`',
      );
    }
  });

  it('an open memory sees what another process adds', async () => {
    const dir = freshDir();
    const memory = await openMemory({ dir, native: 'native', dimension: 64 });
    await memory.add('a note written here first');
    const other = startWriter(dir, 'remote', 2, true);
    await other.acked(1);
    const [hit] = await memory.search('markerremotex1x7', { k: 1 });
    expect(hit?.fragment.text).toContain('markerremotex1x7');
    expect(memory.size).toBe(51);
    other.child.stdin.end();
    expect(await other.exit).toBe(0);
    const local = await memory.add('a note written here after the other process');
    await memory.close();
    const reopened = await openMemory({ dir, native: 'native', dimension: 64 });
    expect(reopened.size).toBe(52);
    expect(await reopened.get(local.fragment.id)).toBeDefined();
    await reopened.close();
  });

  it('two processes adding at once share no label; a third finds every fragment', async () => {
    const dir = freshDir();
    const first = await openMemory({ dir, native: 'native', dimension: 64 });
    await first.close();
    const writers = ['p', 'q'].map((tag) => startWriter(dir, tag, 12));
    expect(await Promise.all(writers.map((w) => w.exit))).toEqual([0, 0]);
    const data = await openDataStore({ path: join(dir, MEMORY_DATABASE_FILE), native: 'native' });
    const labels = await storedLabels(data);
    expect(labels).toHaveLength(2 * 12 * 25);
    expect(distinct(labels)).toBe(true);
    await data.close();
    const third = await openMemory({ dir, native: 'native', dimension: 64 });
    expect(third.size).toBe(600);
    for (const tag of ['p', 'q']) {
      for (let batch = 0; batch < 12; batch += 5) {
        for (const i of [0, 13, 24]) {
          const marker = `marker${tag}x${batch}x${i}`;
          const [hit] = await third.search(marker, { k: 1 });
          expect(hit?.fragment.text).toContain(marker);
        }
      }
    }
    await third.close();
  });
});
