import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataStore } from '@aios/data';
import { isAiosError } from '@aios/utils';
import {
  type SmallDisk,
  smallDisk,
  smallDiskSkip,
  testImplementations,
  treeSnapshot,
} from '@aios/utils/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Memory, openMemory } from './memory.js';

// A memory whose database is open to read only (asked for, or a read-only filesystem):
// it opens from its checkpoint's index files and answers as it did, and writes nothing,
// neither the uses of what it found, nor index files, nor the records of their checks;
// every change fails at once with IO_READ_ONLY.

const diskSkip = smallDiskSkip();
if (diskSkip)
  console.warn(`read-only.test.ts: the read-only filesystem case is skipped: ${diskSkip}`);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'carma-read-only-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const TEXTS = Array.from(
  { length: 40 },
  (_, i) =>
    `note ${i}: ${['Alice', 'Bob', 'Carol', 'Dan'][i % 4]} keeps the ${['blue', 'red', 'green'][i % 3]} key number ${i}`,
);

/** What a memory answers: searches, with scores, and its fragments. */
async function answers(memory: Memory) {
  const searches = [];
  for (const query of ['Alice blue key', 'note 17', 'green']) {
    const found = await memory.search(query, { k: 5 });
    searches.push(found.map((r) => [r.fragment.id, r.fragment.text, r.score.toFixed(6)]));
  }
  const list = (await memory.list()).map((f) => [f.id, f.text, f.importance]);
  return { searches, list, size: memory.size, namespaces: memory.namespaces() };
}

async function expectChangesRefused(memory: Memory) {
  const [first] = await memory.list();
  const id = first?.id as string;
  for (const change of [
    () => memory.add('not added'),
    () => memory.update(id, { text: 'not changed' }),
    () => memory.delete(id),
    () => memory.reinforce(id),
    () => memory.writeIndexFiles(),
    async () => memory.consolidate().done,
  ]) {
    const refused = await change().catch((error: unknown) => error);
    expect(isAiosError(refused, 'IO_READ_ONLY'), String(refused)).toBe(true);
    expect((refused as Error).message).toMatch(
      /: the memory is read-only \(.*\): .* was refused; nothing was changed$/,
    );
  }
}

describe.each(testImplementations())('a memory open to read only (%s)', (impl) => {
  /** A memory of TEXTS in `dir`, closed: its index files written, then opened once more. */
  async function written(dir: string) {
    const memory = await openMemory({ dir, native: impl, dimension: 64 });
    await memory.addMany(TEXTS);
    await memory.close();
    const again = await openMemory({ dir, native: impl, dimension: 64 });
    const before = await answers(again);
    await again.close();
    return before;
  }

  it('answers from its checkpoint as before and writes nothing', async () => {
    const dir = join(root, `asked-${impl}-${n++}`);
    const before = await written(dir);
    const files = treeSnapshot(dir);
    const data = await openDataStore({
      path: join(dir, 'memory.db'),
      native: impl,
      readOnly: true,
    });
    const memory = await openMemory({ data, dir, native: impl, dimension: 64 });
    try {
      expect(memory.readOnly).toBe('asked');
      expect(memory.indexOrigin).toBe('file');
      expect(await answers(memory)).toEqual(before);
      await expectChangesRefused(memory);
    } finally {
      await memory.close();
      await data.close();
    }
    expect(treeSnapshot(dir)).toEqual(files);
  });

  it('refuses to re-embed on opening with another embedder', async () => {
    const dir = join(root, `reembed-${impl}-${n++}`);
    await written(dir);
    const data = await openDataStore({
      path: join(dir, 'memory.db'),
      native: impl,
      readOnly: true,
    });
    try {
      const refused = await openMemory({
        data,
        dir,
        native: impl,
        dimension: 32,
        reembed: true,
      }).catch((error: unknown) => error);
      expect(isAiosError(refused, 'IO_READ_ONLY'), String(refused)).toBe(true);
      expect((refused as Error).message).toContain('re-embedding every fragment');
    } finally {
      await data.close();
    }
  });

  it('refuses a memory that needs its shared index labels repaired (the repair writes)', async () => {
    const dir = join(root, `labels-${impl}-${n++}`);
    await written(dir);
    const path = join(dir, 'memory.db');
    // Two fragments with one label, as two writers at once could leave them once.
    const writable = await openDataStore({ path, native: impl });
    try {
      const [a, b] = await writable.fragments.list({ limit: 2, vectors: false });
      if (!a || !b) throw new Error('expected fragments');
      await writable.fragments.put(
        [
          {
            id: b.id,
            namespace: b.namespace,
            text: b.text,
            metadata: b.metadata,
            attributes: { ...b.attributes, label: a.attributes.label },
          },
        ],
        { keepVectors: true },
      );
    } finally {
      await writable.close();
    }
    const files = treeSnapshot(dir);
    const data = await openDataStore({ path, native: impl, readOnly: true });
    try {
      // Opened from its checkpoint, it finds them once it reads every record (a listing).
      const memory = await openMemory({ data, dir, native: impl, dimension: 64 });
      const refused = await memory.list().catch((error: unknown) => error);
      await memory.close();
      expect(isAiosError(refused, 'IO_READ_ONLY'), String(refused)).toBe(true);
      expect((refused as Error).message).toMatch(
        /: the memory is read-only \(opened to read only, as asked\) and needs a repair that writes it: 1 fragment holds an index label another fragment holds too/,
      );
    } finally {
      await data.close();
    }
    expect(treeSnapshot(dir)).toEqual(files);
  });

  describe.skipIf(diskSkip !== undefined)('on a read-only filesystem', () => {
    let disk: SmallDisk | undefined;
    afterEach(() => {
      disk?.remove();
      disk = undefined;
    });

    it('opens by itself to read only, answers as before and writes nothing', async () => {
      disk = smallDisk(32);
      const dir = join(disk.path, 'memory');
      const before = await written(dir);
      const files = treeSnapshot(dir);
      disk.readOnly();
      const memory = await openMemory({ dir, native: impl, dimension: 64 });
      try {
        expect(memory.readOnly).toBe('filesystem');
        expect(memory.indexOrigin).toBe('file');
        expect(await answers(memory)).toEqual(before);
        await expectChangesRefused(memory);
      } finally {
        await memory.close();
      }
      expect(treeSnapshot(dir)).toEqual(files);
    });
  });
});
