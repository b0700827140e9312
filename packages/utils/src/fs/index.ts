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
export { fsyncDir, fsyncDirSync } from './sync-dir.js';
