import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { initRepository, openRepository } from './repository.js';
import { describeTree, noise } from './testing/fixtures.js';

// A full or read-only filesystem under the repository: a coded error, never a raw system
// error, and a repository that works again once there is room. Needs root (for a small
// tmpfs); skipped with a message otherwise.

const base = mkdtempSync(join(tmpdir(), 'aios-backup-storage-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Mounts a tmpfs of `size` at a new directory; undefined when that is not possible. */
function smallDisk(
  size: string,
): { path: string; remount(mode: 'ro' | 'rw'): void; unmount(): void } | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const path = mkdtempSync(join(base, 'disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
  if (mounted.status !== 0) return undefined;
  return {
    path,
    remount(mode) {
      spawnSync('mount', ['-o', `remount,${mode}`, path]);
    },
    unmount() {
      spawnSync('umount', [path]);
    },
  };
}

const canMount = smallDisk('1m');
canMount?.unmount();
if (!canMount) {
  console.warn('storage-errors.test.ts: skipped (needs root on Linux to mount a small tmpfs)');
}

/** Fills the filesystem at `dir` to the last byte. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const { bavail, bsize } = statfsSync(dir);
  try {
    writeFileSync(filler, Buffer.alloc(Number(bavail) * Number(bsize)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  return filler;
}

describe.runIf(canMount).each(testImplementations())('storage errors (%s)', (impl) => {
  const SMALL_CHUNKS = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 };

  it('a full disk is IO_DISK_FULL; the repository verifies and works once there is room', async () => {
    const disk = smallDisk('3m');
    if (!disk) throw new Error('tmpfs mount failed');
    try {
      const src = join(base, `src-${impl}`);
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, 'big.bin'), noise(6 * 1024 * 1024, 1));
      const repo = await initRepository(join(disk.path, 'repo'), {
        native: impl,
        chunker: SMALL_CHUNKS,
        packSize: 1024 * 1024,
      });
      await expect(repo.backup([src])).rejects.toMatchObject({ code: 'IO_DISK_FULL' });
      expect((await repo.verify({ readData: 100 })).errors).toEqual([]);
      await repo.prune(); // frees the packs the failed backup wrote
      rmSync(join(src, 'big.bin'));
      writeFileSync(join(src, 'small.bin'), noise(200_000, 2));
      const { snapshot } = await repo.backup([src]);
      expect((await repo.verify({ readData: 100 })).errors).toEqual([]);
      const target = join(base, `restored-${impl}`);
      await repo.restore(snapshot.id, target, { root: src });
      expect(describeTree(target)).toEqual(describeTree(src));
    } finally {
      disk.unmount();
    }
  });

  it('an init interrupted by a full disk is finished once there is room', async () => {
    const disk = smallDisk('1m');
    if (!disk) throw new Error('tmpfs mount failed');
    try {
      const filler = fill(disk.path);
      const path = join(disk.path, 'repo');
      await expect(initRepository(path, { native: impl })).rejects.toMatchObject({
        code: 'IO_DISK_FULL',
      });
      rmSync(filler);
      const repo = await initRepository(path, { native: impl });
      expect((await openRepository(path, { native: impl })).config.id).toBe(repo.config.id);
    } finally {
      disk.unmount();
    }
  });

  it('a read-only repository refuses writers with IO_READ_ONLY and is read without a lock', async () => {
    const disk = smallDisk('2m');
    if (!disk) throw new Error('tmpfs mount failed');
    try {
      const src = join(base, `ro-src-${impl}`);
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, 'a.txt'), 'hello');
      const repo = await initRepository(join(disk.path, 'repo'), { native: impl });
      const { snapshot } = await repo.backup([src]);
      disk.remount('ro');
      await expect(repo.backup([src])).rejects.toMatchObject({ code: 'IO_READ_ONLY' });
      await expect(repo.prune()).rejects.toMatchObject({ code: 'IO_READ_ONLY' });
      expect((await repo.snapshots()).length).toBe(1);
      // A write-protected disk or an archived copy: restore, verify and export still read it.
      expect((await repo.verify({ readData: 100 })).errors).toEqual([]);
      const target = join(base, `ro-restored-${impl}`);
      expect((await repo.restore(snapshot.id, target, { root: src })).errors).toEqual([]);
      expect(describeTree(target)).toEqual(describeTree(src));
      const tar = await repo.exportTar(snapshot.id);
      for await (const _ of tar as AsyncIterable<Buffer>) {
        // drained
      }
    } finally {
      disk.remount('rw');
      disk.unmount();
    }
  });
});
