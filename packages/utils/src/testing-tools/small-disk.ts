/**
 * A filesystem of its own for tests of a full or read-only disk: a tmpfs mounted on a new
 * directory (Linux, as root; `smallDiskSkip` says why not otherwise), filled to the last
 * block and freed again.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why the small-disk tests cannot run here; undefined when they can. */
export function smallDiskSkip(): string | undefined {
  if (process.platform !== 'linux') return 'a tmpfs of its own needs Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  return undefined;
}

export interface SmallDisk {
  /** Where it is mounted. */
  readonly path: string;
  /** Fills it, leaving about `leaveBytes` free (default none). */
  fill(leaveBytes?: number): void;
  /** Removes what `fill` wrote. */
  free(): void;
  /** Bytes free now. */
  freeBytes(): number;
  readOnly(): void;
  readWrite(): void;
  /** Unmounts it (and whatever it holds) and removes the directory. */
  remove(): void;
}

function mount(args: string[]): void {
  const run = spawnSync('mount', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`mount ${args.join(' ')}: ${run.stderr}`);
}

/** Mounts a tmpfs of `megabytes` MB on a new temporary directory. */
export function smallDisk(megabytes: number): SmallDisk {
  const path = mkdtempSync(join(tmpdir(), 'aios-small-disk-'));
  mount(['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', path]);
  const filler = join(path, '.filler');
  const freeBytes = () => {
    const stats = statfsSync(path);
    return stats.bavail * stats.bsize;
  };
  let written = 0;
  return {
    path,
    freeBytes,
    fill(leaveBytes = 0) {
      mkdirSync(filler, { recursive: true });
      // Large files first, then single pages, so that the last page is taken too.
      for (const size of [1024 * 1024, 4096]) {
        while (freeBytes() - size >= leaveBytes) {
          try {
            writeFileSync(join(filler, `f${written++}`), Buffer.alloc(size, 1));
          } catch {
            break;
          }
        }
      }
    },
    free() {
      rmSync(filler, { recursive: true, force: true });
    },
    readOnly: () => mount(['-o', 'remount,ro', path]),
    readWrite: () => mount(['-o', 'remount,rw', path]),
    remove() {
      spawnSync('umount', ['-l', path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
