export {
  type AtomicWriteOptions,
  type AtomicWriteSyncOptions,
  atomicWriteFile,
  atomicWriteFileSync,
  type FileChunks,
  removeStaleTemps,
  type SyncFileChunks,
  tempFileFor,
} from './atomic-write.js';
export { makeDir, makeDirSync } from './make-dir.js';
export { fsyncDir, fsyncDirSync } from './sync-dir.js';
