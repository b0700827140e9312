import type { ImplementationReport, NativeMode } from '@aios/utils';
import packageJson from '../package.json' with { type: 'json' };
import { loadCarmaBinding } from './binding.js';

/** How long after its last change an index file's full check may be recorded (checked-files.ts). */
export { SETTLED_MS as INDEX_FILE_SETTLED_MS } from './checked-files.js';
export {
  CARMA_META_KEY,
  createDataFragmentStore,
  DataFragmentStore,
  type DataFragmentStoreOptions,
} from './data-fragment-store.js';
export {
  DEFAULT_DIMENSION,
  type Embedder,
  HASHING_EMBEDDER_ID,
  HashingEmbedder,
} from './embedder.js';
export {
  type EmbedderConfig,
  type EmbedderSummary,
  embedderOptionsFromConfig,
  summarizeEmbedderConfig,
} from './embedder-config.js';
export {
  describeRoles,
  type EmbeddingRoles,
  type EmbedRole,
  presetForModel,
  ROLE_PRESET_NAMES,
  type RoleOptions,
  type RolePresetName,
  type RoleSetting,
  resolveRoles,
  rolePreset,
} from './embedding-roles.js';
export * from './engine/index.js';
export { CarmaErrorCode } from './errors.js';
export { type Condition, compileFilter, type Filter } from './filter.js';
export type {
  ChangeKind,
  FragmentChange,
  FragmentRecord,
  FragmentStore,
  FragmentWrite,
  IndexCheckpoint,
  StoredMemory,
  StoreMeta,
} from './fragment-store.js';
export * from './memory.js';
export type { IndexLogger } from './memory-types.js';
export { OpenAIEmbedder, type OpenAIEmbedderOptions } from './openai.js';
export {
  type IndexFileCheck,
  removeStaleIndexTempFiles,
  verifyIndexFiles,
} from './vector-index-file-check.js';

export const VERSION: string = packageJson.version;

/** Which implementation @aios/carma runs in this process, and why. */
export function implementation(mode?: NativeMode): ImplementationReport {
  return loadCarmaBinding(mode).report;
}
