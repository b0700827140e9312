import type { BackupWarning, Entry, RepoConfig } from '../format.js';
import { emptySummary } from '../format.js';
import type { ChunkLocation } from '../repo/chunk-index.js';
import type { PackWriter } from '../repo/pack.js';
import type { ReuseGuard } from '../repo/reuse-guard.js';
import type { SnapshotStore } from '../repo/stores.js';
import type { WalkItem } from '../repo/walk.js';
import type { BackupProgress, RepositoryWarning, SnapshotList } from '../types.js';
import { ProgressReporter } from './progress.js';

/**
 * Sealed packs that may still be on their way to the disk while the next one fills: an
 * fsync that waits for a busy disk then stalls the backup only once this many (16 MiB
 * each by default) are behind.
 */
const PACKS_IN_FLIGHT = 4;

/** What a backup run needs of its repository. */
export interface BackupTarget extends SnapshotStore {
  readonly config: RepoConfig;
  listSnapshots(): Promise<SnapshotList>;
}

/**
 * A file to read and store; `attempt` is 1 when it is read again after it changed, `fresh`
 * when the parent snapshot has no file at its path (its chunks are likely new).
 */
export interface FileWork {
  item: WalkItem;
  entry: Entry;
  attempt: number;
  fresh?: boolean;
}

/** The state the steps of one backup run share: what it found, stored and reports. */
export class BackupRun {
  readonly warnings: BackupWarning[] = [];
  readonly repositoryWarnings: RepositoryWarning[] = [];
  /** The snapshot's entries by path; a file that cannot be stored is removed. */
  readonly entries = new Map<string, Entry>();
  readonly summary = emptySummary();
  readonly progress: ProgressReporter;

  constructor(
    readonly repo: BackupTarget,
    readonly writer: PackWriter,
    /** The chunks this run may reuse or has stored, at the copy it uses. */
    readonly index: Map<string, ChunkLocation>,
    readonly guard: ReuseGuard,
    readonly signal: AbortSignal | undefined,
    onProgress: ((progress: BackupProgress) => void) | undefined,
  ) {
    this.progress = new ProgressReporter(onProgress);
  }

  /** The repository has the chunk, or this run is writing it. */
  has(id: string): boolean {
    return this.index.has(id) || this.writer.has(id);
  }

  /** Leaves a file out of the snapshot, saying why. */
  drop(entry: Entry, warning: BackupWarning): void {
    // Listed by the walk, gone when read: said in words, not as the engine's ENOENT.
    this.warnings.push(
      warning.code === 'IO_NOT_FOUND'
        ? {
            ...warning,
            message: `${warning.path}: removed while being backed up; not in the snapshot`,
          }
        : warning,
    );
    this.entries.delete(entry.path);
  }

  /** Packs sealed and on their way to the disk, oldest first. */
  private readonly finishing: Array<Promise<void>> = [];

  /**
   * Seals the pack being written: its chunks are reusable at once (without a check: this
   * run wrote them), and it is made durable while the next pack fills. At most
   * PACKS_IN_FLIGHT are;  `packsDurable()` waits for them all before the snapshot is written.
   */
  async finishPack(): Promise<void> {
    const sealed = await this.writer.seal();
    if (!sealed) return;
    const { index } = sealed;
    this.guard.written(index.pack);
    for (const b of index.blobs) {
      if (!this.index.has(b.id)) this.index.set(b.id, { ...b, pack: index.pack });
    }
    this.finishing.push(sealed.durable);
    if (this.finishing.length > PACKS_IN_FLIGHT) await this.finishing.shift();
  }

  /** Waits until every sealed pack and its index are durable (the first failure throws). */
  async packsDurable(): Promise<void> {
    while (this.finishing.length > 0) await this.finishing.shift();
    await this.writer.publishIndexes();
  }
}
