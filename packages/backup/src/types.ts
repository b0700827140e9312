import type { StreamedEntry } from './backup-run/stream-entry.js';
import type { BackupWarning, SnapshotInfo } from './format.js';

// The public shapes of a backup run and of a snapshot listing, apart from the modules
// that produce them so that those modules and the Repository facade share them freely.

export interface BackupProgress {
  phase: 'scan' | 'backup' | 'done';
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Bytes per second since the backup phase started. */
  bytesPerSecond: number;
  /** Seconds left at the current rate; null before there is a rate. */
  etaSeconds: number | null;
  currentPath?: string;
}

export interface BackupOptions {
  /** gitignore-style patterns, relative to each backed-up path. */
  excludes?: string[];
  tags?: string[];
  onProgress?: (progress: BackupProgress) => void;
  signal?: AbortSignal;
  /** Parent snapshot for the unchanged-file shortcut; default: the latest with the same paths and host. */
  parent?: string;
  /** Read every file again even when size, mtime and inode are unchanged. */
  force?: boolean;
  /** Files whose bytes come from streams (a database dump), stored after the paths' files. */
  streams?: StreamedEntry[];
}

/** Something about the repository (not the backed-up files) that a backup worked around. */
export interface RepositoryWarning {
  code: string;
  message: string;
}

export interface BackupResult {
  snapshot: SnapshotInfo;
  warnings: BackupWarning[];
  /**
   * Damaged snapshots skipped when choosing the parent (`SNAPSHOT_DAMAGED`) and damaged
   * stored chunks found before reuse and stored again from the live files (`CHUNK_DAMAGED`).
   */
  repositoryWarnings: RepositoryWarning[];
}

/** A snapshot file that cannot be read or does not match its id. */
export interface DamagedSnapshot {
  id: string;
  code: string;
  message: string;
}

export interface SnapshotList {
  /** The intact snapshots, oldest first. */
  snapshots: SnapshotInfo[];
  /** The damaged ones, which every operation skips; `forgetSnapshots` removes them. */
  damaged: DamagedSnapshot[];
}
