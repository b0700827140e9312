// The public API of @aios/core, by name. Each core's own API is in its package
// (@aios/luna, @aios/carma, @aios/data, @aios/backup, @aios/support, @aios/utils).

// What calling the above takes: the config and the errors
export {
  type AiosConfig,
  type AiosConfigInput,
  AiosError,
  ConfigError,
  ErrorCode,
  type ImplementationReport,
  isAiosError,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  type NativeMode,
} from '@aios/utils';
// The system
export {
  type Aios,
  type CreateAiosOptions,
  coreReports,
  createAios,
  readOnlyHome,
  resolveConfig,
} from './aios.js';
export { BackupHandle } from './backup-handle.js';
// The config file writer of `aios config set`, for doors that change the config
export {
  readJsonObject as readConfigFile,
  splitKey as configKeyPath,
  targetFile as configFileOf,
  writeChecked as writeConfigFile,
} from './commands/config-files.js';
export { CORES, type CoreDescriptor } from './cores.js';
// Paging through the memory
export { FRAGMENT_SCAN_LIMIT, type FragmentPageQuery, fragmentPage } from './fragment-page.js';

// Ingest
export {
  binaryReason,
  type Chunk,
  chunkChatGptExport,
  chunkFile,
  chunkText,
  collectFiles,
  DEFAULT_INGEST_NAMESPACE,
  type ForgetPlan,
  type ForgetResult,
  type ForgetSelection,
  forgetSources,
  headProblem,
  INGEST_KINDS_TEXT,
  type IngestFileResult,
  type IngestOptions,
  type IngestProgress,
  type IngestResult,
  type IngestTarget,
  ingest,
  isChatGptExport,
  MAX_FILE_BYTES,
  MAX_JSON_DEPTH,
  type PartialFile,
  planForget,
  type SkippedFile,
  type SyncConflict,
  textChunks,
} from './ingest.js';
export { type CoreStatus, coreStatus, type SystemStatus, systemStatus } from './status.js';
