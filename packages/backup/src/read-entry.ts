import { AiosError } from '@aios/utils';
import type { Entry } from './format.js';
import { loadChunkIndex } from './repo/chunk-index.js';
import { PackChunkReader } from './repo/chunk-reader.js';
import { withStorageErrors } from './repo/errors.js';
import { acquireReadLock } from './repo/lock.js';
import type { SnapshotStore } from './repo/stores.js';
import { fileChunks } from './snapshot-read.js';

/** One file of a snapshot and its bytes, read as they are needed. */
export interface EntryReader {
  entry: Entry;
  /**
   * The file's bytes, each chunk decoded and checked against its id (`CHUNK_DAMAGED`,
   * `CHUNK_MISSING` otherwise). Iterate it once; the repository's shared lock is held
   * until it ends, fails or is abandoned (`return()`), or `close()` is called.
   */
  data: AsyncGenerator<Uint8Array>;
  close(): Promise<void>;
}

/**
 * Opens one file of a snapshot (its snapshot path) for reading as a stream, e.g. to pipe
 * a database dump into the server it is restored to without writing it to disk first.
 * `SNAPSHOT_NOT_FOUND` when the snapshot is not there, `ENTRY_NOT_FOUND` when the file is not.
 */
export function readEntry(repo: SnapshotStore, snapshot: string, path: string) {
  return withStorageErrors(async (): Promise<EntryReader> => {
    const release = await acquireReadLock(repo.path, 'restore');
    let closed = false;
    let source: PackChunkReader | undefined;
    const close = async () => {
      if (closed) return;
      closed = true;
      await source?.close();
      await release();
    };
    try {
      const snap = await repo.loadSnapshot(snapshot);
      const entry = snap.entries.find((e) => e.path === path);
      if (entry?.type !== 'file') {
        throw new AiosError(
          'ENTRY_NOT_FOUND',
          `snapshot ${snap.id.slice(0, 12)} has no file ${path}${entry ? ` (it is a ${entry.type})` : ''}`,
          { details: { snapshot: snap.id, path } },
        );
      }
      const { chunks } = await loadChunkIndex(repo.path);
      const reader = new PackChunkReader(repo, chunks);
      source = reader;
      async function* data(): AsyncGenerator<Uint8Array> {
        try {
          yield* fileChunks(reader, entry as Entry);
        } finally {
          await close();
        }
      }
      return { entry, data: data(), close };
    } catch (error) {
      await close();
      throw error;
    }
  }, repo.path);
}
