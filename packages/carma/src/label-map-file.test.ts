import { randomUUID } from 'node:crypto';
import { createHashing } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { describe, expect, it } from 'vitest';
import type { MemoryContext } from './context.js';
import type { FragmentRecord } from './fragment-store.js';
import { decodeLabelMap, encodeLabelMap } from './label-map-file.js';

const record = (label: number, id: string, namespace: string, importance: number) =>
  ({ label, id, namespace, importance }) as FragmentRecord;

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
    const map = await decodeLabelMap(ctx, Buffer.concat(await encodeLabelMap(ctx, records)));
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
