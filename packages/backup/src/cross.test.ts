import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotFile } from './format.js';
import { initRepository, openRepository } from './repository.js';
import { describeTree, makeTree, snapPath } from './testing/fixtures.js';

const SMALL_CHUNKS = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 };

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'aios-backup-cross-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const both = testImplementations().length === 2;

describe('a repository written by one implementation is read by the other', () => {
  for (const [writer, reader] of [
    ['native', 'js'],
    ['js', 'native'],
  ] as const) {
    it.runIf(both)(`${writer} writes, ${reader} verifies, restores and deduplicates`, async () => {
      const dir = join(base, `${writer}-to-${reader}`);
      const src = join(dir, 'src');
      mkdirSync(src, { recursive: true });
      makeTree(src, 7);
      const w = await initRepository(join(dir, 'repo'), {
        native: writer,
        chunker: SMALL_CHUNKS,
        packSize: 1024 * 1024,
      });
      const { snapshot } = await w.backup([src], { excludes: ['cache/'] });

      const r = await openRepository(w.path, { native: reader });
      expect(r.implementation).toBe(reader);
      const v = await r.verify({ readData: 100 });
      expect(v.errors).toEqual([]);
      expect(v.checkedChunks).toBe(v.chunks);
      const target = join(dir, 'restore');
      expect((await r.restore(snapshot.id, target)).errors).toEqual([]);
      const restored = describeTree(join(target, snapPath(src)));
      const original = describeTree(src);
      delete original.cache;
      delete original['cache/skip.tmp'];
      expect(restored).toEqual(original);

      // Re-reading every file, the other implementation finds the same chunk ids: nothing new.
      const again = await r.backup([src], { excludes: ['cache/'], force: true });
      expect(again.snapshot.summary.chunksNew).toBe(0);
      const read = (id: string) =>
        JSON.parse(readFileSync(join(w.path, 'snapshots', `${id}.json`), 'utf8')) as SnapshotFile;
      expect(read(again.snapshot.id).entries).toEqual(read(snapshot.id).entries);
    });
  }
});
