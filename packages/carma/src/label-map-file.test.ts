import { randomUUID } from 'node:crypto';
import { createHashing } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import type { MemoryContext } from './context.js';
import type { FragmentRecord } from './fragment-store.js';
import { decodeLabelMap, encodeLabelMap } from './label-map-file.js';

const record = (
  label: number,
  id: string,
  namespace: string,
  importance: number,
  contentHash = `hash-of-${id}`,
) => ({ label, id, namespace, importance, contentHash }) as FragmentRecord;

describe.each(testImplementations())('label map files (%s)', (impl) => {
  it('finds every fragment by label and by id, hash collisions and all', async () => {
    const ctx = { hashing: await createHashing({ native: impl }) } as MemoryContext;
    // Enough ids that some share a 32-bit hash, and ids of any length and script.
    const records = Array.from({ length: 120_000 }, (_, i) =>
      record(
        3 * i + 1,
        i % 7 === 0 ? `frägment-${i}-日本` : randomUUID(),
        `ns${i % 3}`,
        (i % 10) / 10,
      ),
    );
    const bytes = Buffer.concat(await encodeLabelMap(ctx, records));
    // Read where it starts (views of the bytes) and where it is not aligned (copies).
    const shifted = Buffer.alloc(bytes.length + 1);
    bytes.copy(shifted, 1);
    for (const given of [bytes, shifted.subarray(1)]) {
      const map = await decodeLabelMap(ctx, given);
      expect(map.count).toBe(records.length);
      records.forEach((f, i) => {
        const entry = map.entryOf(f.label);
        expect(entry).toBe(i);
        expect(map.idAt(entry)).toBe(f.id);
        expect(map.entryOfId(f.id)).toBe(i);
        expect(map.namespaceAt(entry)).toBe(f.namespace);
        expect(map.importanceAt(entry)).toBe(f.importance);
      });
      expect(map.entryOf(2)).toBe(-1);
      expect(map.entryOfId('no-such-fragment')).toBe(-1);
    }
  });

  it('lets the event loop turn while it encodes a large map', async () => {
    const ctx = { hashing: await createHashing({ native: impl }) } as MemoryContext;
    const records = Array.from({ length: 100_000 }, (_, i) =>
      record(i, `fragment-${i}`, 'default', 0.5),
    );
    let turns = 0;
    const tick = setInterval(() => {
      turns++;
    }, 0);
    try {
      const bytes = Buffer.concat(await encodeLabelMap(ctx, records));
      expect((await decodeLabelMap(ctx, bytes)).count).toBe(records.length);
    } finally {
      clearInterval(tick);
    }
    // A search waiting beside a checkpoint is answered between the pieces.
    expect(turns).toBeGreaterThanOrEqual(5);
  });

  it('names the entries that may hold a text, and writes itself again from its entries', async () => {
    const ctx = { hashing: await createHashing({ native: impl }) } as MemoryContext;
    // 100k texts, each held in two namespaces: some of their 32-bit keys collide.
    const records = Array.from({ length: 200_000 }, (_, i) =>
      record(i, randomUUID(), i % 2 === 0 ? 'a' : 'b', 0.5, `text-${i >> 1}`),
    );
    const map = await decodeLabelMap(ctx, Buffer.concat(await encodeLabelMap(ctx, records)));
    expect(map.knowsContent).toBe(true);
    let extra = 0;
    for (let t = 0; t < 100_000; t++) {
      const entries = map.entriesWithContent(`text-${t}`);
      expect(entries).toEqual(expect.arrayContaining([2 * t, 2 * t + 1]));
      extra += entries.length - 2;
    }
    expect(extra).toBeLessThan(100); // candidates beyond the holders: a handful of collisions
    expect(map.entriesWithContent('no such text')).toEqual([]);
    // A map written from the entries of one read (a checkpoint of a memory that answers
    // from its map) is the same map, its entries copied as they are, alone or between
    // records (every other entry given as its record).
    const written = Buffer.concat(await encodeLabelMap(ctx, records));
    for (const source of [
      records.map((_, i) => map.refAt(i)),
      records.map((r, i) => (i % 2 === 0 ? map.refAt(i) : r)),
    ]) {
      expect(Buffer.concat(await encodeLabelMap(ctx, source)).equals(written)).toBe(true);
    }
  });

  it('reads a version 1 map, which knows no texts', async () => {
    const ctx = { hashing: await createHashing({ native: impl }) } as MemoryContext;
    const records = [record(0, 'a', 'default', 0.5), record(5, 'b', 'work', 1)];
    const v2 = Buffer.concat(await encodeLabelMap(ctx, records));
    // Version 1: the same without the two content sections (2 x 4 bytes per entry).
    const numbersAt = 64 + 8 * records.length;
    const contentAt = numbersAt + 20 * records.length;
    const v1 = Buffer.concat([
      v2.subarray(0, contentAt),
      v2.subarray(contentAt + 8 * records.length),
    ]);
    v1.writeUInt32LE(1, 8);
    Buffer.from(await ctx.hashing.hash(v1.subarray(64)), 'hex').copy(v1, 32);
    const map = await decodeLabelMap(ctx, v1);
    expect(map.knowsContent).toBe(false);
    expect(map.entriesWithContent('hash-of-a')).toEqual([]);
    expect(map.idAt(map.entryOfId('b'))).toBe('b');
    expect(map.namespaceAt(map.entryOf(5))).toBe('work');
  });

  it('refuses bytes it cannot trust', async () => {
    const ctx = { hashing: await createHashing({ native: impl }) } as MemoryContext;
    const good = Buffer.concat(
      await encodeLabelMap(ctx, [record(0, 'a', 'default', 0.5), record(5, 'b', 'work', 1)]),
    );
    await expect(decodeLabelMap(ctx, good.subarray(0, good.length - 1))).rejects.toMatchObject({
      code: 'INDEX_CORRUPT',
    });
    const flipped = Buffer.from(good);
    flipped[70] = (flipped[70] as number) ^ 1;
    await expect(decodeLabelMap(ctx, flipped)).rejects.toThrow(/checksum mismatch/);
    const other = Buffer.from(good);
    other.write('NOTAMAP!', 0, 'latin1');
    await expect(decodeLabelMap(ctx, other)).rejects.toThrow(/not a label map/);
  });
});
