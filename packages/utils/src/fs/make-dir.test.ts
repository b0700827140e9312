import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { smallDisk, smallDiskSkip } from '../testing-tools/small-disk.js';
import { makeDir, makeDirSync } from './make-dir.js';

const root = mkdtempSync(join(tmpdir(), 'aios-make-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('makeDir', () => {
  it('makes a directory and its parents, and takes one that exists', async () => {
    makeDirSync(join(root, 'a', 'b'));
    await makeDir(join(root, 'c', 'd'));
    makeDirSync(join(root, 'a', 'b'));
    await makeDir(join(root, 'c', 'd'));
    expect(existsSync(join(root, 'a', 'b')) && existsSync(join(root, 'c', 'd'))).toBe(true);
  });

  it.skipIf(smallDiskSkip() !== undefined)(
    'says EROFS on a read-only filesystem, where a recursive mkdir says ENOENT',
    async () => {
      const disk = smallDisk(1);
      try {
        mkdirSync(join(disk.path, 'there'));
        disk.readOnly();
        for (const dir of [join(disk.path, 'x'), join(disk.path, 'x', 'y')]) {
          expect(() => makeDirSync(dir)).toThrow(expect.objectContaining({ code: 'EROFS' }));
          await expect(makeDir(dir)).rejects.toMatchObject({ code: 'EROFS' });
        }
        // One that exists is no failure, read-only or not.
        makeDirSync(join(disk.path, 'there'));
        await makeDir(join(disk.path, 'there'));
      } finally {
        disk.remove();
      }
    },
  );
});
