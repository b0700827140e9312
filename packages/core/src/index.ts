export * from '@aios/utils';
export {
  type Aios,
  BackupHandle,
  type CreateAiosOptions,
  coreReports,
  createAios,
  resolveConfig,
} from './aios.js';
export { CORES, type CoreDescriptor } from './cores.js';
export {
  type Chunk,
  chunkChatGptExport,
  chunkFile,
  chunkText,
  collectFiles,
  type IngestFileResult,
  type IngestProgress,
  type IngestResult,
  ingest,
  isChatGptExport,
} from './ingest.js';
export { type CoreStatus, coreStatus, type SystemStatus, systemStatus } from './status.js';
