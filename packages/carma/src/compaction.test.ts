import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MemoryContext } from './context.js';
import { type Memory, openMemory } from './index.js';
import { COMPACT_IDLE_MS, COMPACT_MIN_DEAD } from './search-indexes.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-compaction-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const text = (i: number, version = 0) =>
  `note ${i} on topic ${i % 37}: ${version ? 'revised' : 'first'} wording ${(i * 7919) % 1009}`;

const indexFileBytes = (dir: string) =>
  readdirSync(dir)
    .filter((n) => /^index-\d+\.bin$/.test(n))
    .reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);

/** Waits until the memory's vector index holds fewer than `dead` dead rows. */
async function until(memory: Memory, dead: number): Promise<void> {
  for (let waited = 0; memory.stats().deadRows >= dead; waited += 20) {
    if (waited > 60_000) throw new Error(`still ${memory.stats().deadRows} dead rows`);
    await sleep(20);
  }
}

describe.each(testImplementations())('background compaction (%s)', (impl) => {
  it('drops the rows of deleted and updated fragments, in the file too, keeping every answer', async () => {
    const dir = join(root, `${impl}-churn`);
    const open = () => openMemory({ dir, native: impl, dimension: 64, hnsw: true });
    const memory = await open();
    const added = await memory.addMany(Array.from({ length: 2400 }, (_, i) => text(i)));
    const ids = added.map((r) => r.fragment.id);
    await memory.flush();
    const before = indexFileBytes(dir);

    // 700 deleted and 700 updated: 1,400 dead rows of 3,800, past the threshold.
    for (let i = 0; i < 1400; i++) {
      const id = ids[i] as string;
      if (i % 2 === 0) await memory.delete(id);
      else await memory.update(id, { text: text(i, 1) });
    }
    // It ran once they reached the threshold; the writes after it left fewer than that,
    // dropped too once writes pause.
    await until(memory, COMPACT_MIN_DEAD);
    expect(memory.stats().deadRows).toBeLessThanOrEqual(1400 - COMPACT_MIN_DEAD);
    await sleep(COMPACT_IDLE_MS);
    await until(memory, 1);
    expect(memory.stats().fragments).toBe(1700);

    const updated = await memory.search(text(1, 1), { k: 1, mode: 'vector' });
    expect(updated[0]?.id).toBe(ids[1]);
    expect(updated[0]?.fragment.text).toBe(text(1, 1));
    const deleted = await memory.search(text(2), { k: 5, mode: 'vector' });
    expect(deleted.map((r) => r.id)).not.toContain(ids[2]);
    const kept = await memory.search(text(2000), { k: 1, mode: 'vector' });
    expect(kept[0]?.id).toBe(ids[2000]);
    await memory.close();

    // The file written at close holds the 1,700 live rows only (3,800 rows without
    // compaction: 1,700 live, 700 deleted, 700 old versions).
    const after = indexFileBytes(dir);
    expect(after).toBeLessThan(before * 0.75);
    const reopened = await open();
    expect(reopened.stats().deadRows).toBe(0);
    expect(reopened.stats().fragments).toBe(1700);
    expect((await reopened.search(text(1, 1), { k: 1, mode: 'vector' }))[0]?.id).toBe(ids[1]);
    await reopened.close();
  });

  it('closing while it runs stops it and loses nothing', async () => {
    const dir = join(root, `${impl}-close`);
    const open = () => openMemory({ dir, native: impl, dimension: 64, hnsw: true });
    const memory = await open();
    const added = await memory.addMany(Array.from({ length: 2400 }, (_, i) => text(i)));
    for (const r of added.slice(0, 1100)) await memory.delete(r.fragment.id);
    // The last delete started a compaction; close does not wait for it to finish.
    await memory.close();
    const reopened = await open();
    expect(reopened.stats().fragments).toBe(1300);
    const hit = await reopened.search(text(2300), { k: 1, mode: 'vector' });
    expect(hit[0]?.id).toBe(added[2300]?.fragment.id);
    const gone = await reopened.search(text(5), { k: 3, mode: 'vector' });
    expect(gone.map((r) => r.id)).not.toContain(added[5]?.fragment.id);
    await reopened.close();
  });

  it('drops the rows deleted while a compaction ran, once writes pause', async () => {
    const memory = await openMemory({
      dir: join(root, `${impl}-overlap`),
      native: impl,
      dimension: 64,
      hnsw: true,
    });
    const added = await memory.addMany(Array.from({ length: 2400 }, (_, i) => text(i)));
    // A compaction that outlasts the pause (as one of a large index does): the check made
    // once writes pause finds it still running.
    const vectors = (memory as unknown as { ctx: MemoryContext }).ctx.indexes.vectors;
    if (vectors === undefined) throw new Error('no vector index');
    const compactAsync = vectors.compactAsync.bind(vectors);
    vi.spyOn(vectors, 'compactAsync').mockImplementation(async (options) => {
      const swapped = await compactAsync(options);
      await sleep(COMPACT_IDLE_MS * 1.5);
      return swapped;
    });
    // The 1,024th delete starts it; the 176 after it are dead rows of the new index too.
    for (const r of added.slice(0, COMPACT_MIN_DEAD + 176)) await memory.delete(r.fragment.id);
    await until(memory, 177);
    expect(memory.stats().deadRows).toBeGreaterThan(0);
    await until(memory, 1);
    expect(memory.stats().fragments).toBe(2400 - COMPACT_MIN_DEAD - 176);
    await memory.close();
  }, 30_000);
});
