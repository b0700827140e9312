import type { Entry, SnapshotFile } from '../format.js';
import type { WalkItem } from '../repo/walk.js';
import type { BackupOptions } from '../types.js';
import type { BackupRun, FileWork } from './state.js';

type Snapshot = SnapshotFile & { id: string };

/** The snapshot entry of a walked item (a file's chunks are filled in when it is stored). */
export function entryOf(item: WalkItem): Entry {
  const s = item.stats;
  return {
    path: item.path,
    type: item.type,
    mode: s.mode & 0o7777,
    size: item.type === 'file' ? Number(s.size) : 0,
    mtimeNs: s.mtimeNs.toString(),
    uid: s.uid,
    gid: s.gid,
    inode: s.ino,
    ...(item.type === 'file' ? { chunks: [] } : {}),
    ...(item.type === 'symlink' ? { target: item.target ?? '' } : {}),
  };
}

/**
 * The parent snapshot: the one asked for, or the latest intact one of this host with the
 * same paths. Damaged snapshots are skipped with a warning.
 */
export async function chooseParent(
  run: BackupRun,
  roots: string[],
  host: string,
  options: BackupOptions,
): Promise<Snapshot | undefined> {
  if (options.parent) return run.repo.loadSnapshot(options.parent);
  const { snapshots, damaged } = await run.repo.listSnapshots();
  for (const d of damaged) {
    run.repositoryWarnings.push({
      code: 'SNAPSHOT_DAMAGED',
      message: `${d.message}; the damaged snapshot was skipped (forgetting it by id removes it)`,
    });
  }
  const latest = snapshots
    .filter((s) => s.hostname === host && JSON.stringify(s.paths) === JSON.stringify(roots))
    .at(-1);
  return latest ? run.repo.loadSnapshot(latest.id) : undefined;
}

/**
 * Records every walked item as an entry and returns the files to read. A file whose size,
 * mtime and inode match the parent's entry, and whose chunks the repository has intact,
 * reuses those chunks unread; their packs are proven intact first.
 */
export async function planFiles(
  run: BackupRun,
  items: WalkItem[],
  previous: Map<string, Entry>,
): Promise<FileWork[]> {
  const unchanged = (entry: Entry) => {
    const prev = previous.get(entry.path);
    return prev?.type === 'file' &&
      prev.size === entry.size &&
      prev.mtimeNs === entry.mtimeNs &&
      prev.inode === entry.inode &&
      prev.chunks?.every((c) => run.index.has(c))
      ? prev
      : undefined;
  };
  const reusable: string[] = [];
  for (const item of items) {
    if (item.type !== 'file') continue;
    for (const c of unchanged(entryOf(item))?.chunks ?? []) reusable.push(c);
  }
  // A damaged chunk found here leaves the index: its file is then read again below.
  await run.guard.ensure(reusable, run.signal);
  const toRead: FileWork[] = [];
  for (const item of items) {
    const entry = entryOf(item);
    run.entries.set(entry.path, entry);
    if (item.type !== 'file') continue;
    run.progress.add(entry.size);
    const prev = previous.get(entry.path);
    if (prev && unchanged(entry)) {
      entry.chunks = prev.chunks;
      run.summary.filesUnchanged++;
      run.progress.fileDone(entry.size);
    } else {
      if (prev) run.summary.filesChanged++;
      else run.summary.filesNew++;
      toRead.push({ item, entry, attempt: 0, fresh: !prev });
    }
  }
  return toRead;
}
