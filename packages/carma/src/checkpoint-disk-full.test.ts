import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isAiosError } from '@aios/utils';
import { type SmallDisk, smallDisk, smallDiskSkip, testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMemory } from './memory.js';

// A checkpoint of a memory of thousands of fragments written while the disk is full: it
// fails with IO_DISK_FULL, leaves no file of the generation it could not finish (they
// would hold the space the next attempt needs), and the memory loses nothing.

const skip = smallDiskSkip();
if (skip) console.warn(`checkpoint-disk-full.test.ts skipped: ${skip}`);

const generations = (dir: string) =>
  [
    ...new Set(
      readdirSync(dir).map((name) => /^(?:index|lexical|labels)-(\d+)\.bin/.exec(name)?.[1]),
    ),
  ]
    .filter((g) => g !== undefined)
    .map(Number);

describe.skipIf(skip !== undefined).each(testImplementations())(
  'index files checkpointed on a full disk (%s)',
  (impl) => {
    let disk: SmallDisk;
    beforeAll(() => {
      disk = smallDisk(48);
    });
    afterAll(() => disk?.remove());

    it('fails with IO_DISK_FULL, removes the unfinished files, and writes them once freed', async () => {
      const dir = join(disk.path, 'memory');
      const memory = await openMemory({ dir, native: impl, dimension: 64 });
      const texts = Array.from(
        { length: 3000 },
        (_, i) => `note ${i} about mark${i} and topic${i % 37}`,
      );
      await memory.addMany(texts);
      await memory.writeIndexFiles();
      const [first] = generations(dir);
      expect(first).toBeDefined();

      // Room for a row in the database, none for three new index files.
      disk.fill(512 * 1024);
      await memory.add('written while the disk was full: markfull');
      const failed = await memory.writeIndexFiles().catch((error: unknown) => error);
      expect(isAiosError(failed, 'IO_DISK_FULL'), String(failed)).toBe(true);
      expect(generations(dir)).toEqual([first]);
      expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);

      disk.free();
      expect(await memory.writeIndexFiles()).toBe('written');
      await memory.close();

      const again = await openMemory({ dir, native: impl, dimension: 64 });
      try {
        expect(again.size).toBe(3001);
        const [hit] = await again.search('markfull', { k: 1 });
        expect(hit?.fragment.text).toBe('written while the disk was full: markfull');
      } finally {
        await again.close();
      }
    }, 120_000);
  },
);
