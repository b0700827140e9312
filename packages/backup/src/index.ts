import type { ImplementationReport, NativeMode } from '@aios/utils';
import packageJson from '../package.json' with { type: 'json' };
import { loadBackupBinding } from './binding.js';

export type { StreamedEntry } from './backup-run/stream-entry.js';
export { createEngine } from './engine/index.js';
export type {
  BlobChunk,
  BlobLocation,
  BlobRequest,
  ChunkInfo,
  Engine,
  FileChunks,
  FileWindow,
  ItemResult,
  RangeRequest,
  RestoreFileRequest,
  WindowRequest,
} from './engine/types.js';
export type { ExportOptions } from './export-tar.js';
export { boundaries, type ChunkerParams, validateChunkerParams } from './fastcdc.js';
export {
  assertSafeTree,
  type BackupWarning,
  DEFAULT_CHUNKER,
  type Entry,
  type EntryType,
  FORMAT_VERSION,
  type IndexFile,
  isSafeRelativePath,
  type RepoConfig,
  type SnapshotFile,
  type SnapshotInfo,
  type SnapshotSummary,
} from './format.js';
export { type EntryReader, readEntry } from './read-entry.js';
export { StorageErrorCode, storageError } from './repo/errors.js';
export { DEFAULT_READ_DATA } from './repo/verify.js';
export {
  type BackupOptions,
  type BackupProgress,
  type BackupResult,
  type DamagedSnapshot,
  type DiffResult,
  type ForgetOptions,
  type ForgetResult,
  type InitOptions,
  initRepository,
  openRepository,
  type PruneResult,
  type PruneWarning,
  Repository,
  type RepositoryOptions,
  type RepositoryWarning,
  type SnapshotList,
  type VerifyOptions,
  type VerifyResult,
} from './repository.js';
export type { RestoreOptions, RestoreResult } from './restore.js';
export { applyRetention, type RetentionPolicy } from './retention.js';
export {
  InPlaceSwap,
  recoverSwaps,
  SWAP_PREFIX,
  type SwapMove,
  type SwapRecovery,
} from './swap.js';
export { type WriteMode, writeStreamToPath } from './write-out.js';

export const VERSION: string = packageJson.version;

/** Which implementation @aios/backup runs in this process, and why. */
export function implementation(mode?: NativeMode): ImplementationReport {
  return loadBackupBinding(mode).report;
}
