/**
 * What the parts of a memory share: its collaborators, its settings and its state. The
 * `Memory` class builds one and hands it to the functions that do the work.
 */
import type { Hashing } from '@aios/utils';
import type { AllowListCache } from './allow-list.js';
import type { Embedder } from './embedder.js';
import type { CarmaEngine } from './engine/index.js';
import type { FollowState } from './follow.js';
import type { FragmentState } from './fragment-state.js';
import type { FragmentStore } from './fragment-store.js';
import type { FusionOptions, MemoryOptions } from './memory-types.js';
import type { QueryVectors } from './query-vectors.js';
import type { SearchIndexes } from './search-indexes.js';
import type { IndexFileState } from './vector-index-file.js';

export interface MemoryContext {
  readonly engine: CarmaEngine;
  readonly hashing: Hashing;
  readonly store: FragmentStore;
  /** Replaced only by a switch to another embedder (`switch-embedder.ts`). */
  embedder: Embedder;
  readonly options: MemoryOptions;
  /** Clock for timestamps. */
  readonly now: () => number;
  /** The memory's fusion settings (a search may override them). */
  fusion: FusionOptions;
  readonly fragments: FragmentState;
  readonly indexes: SearchIndexes;
  readonly allowLists: AllowListCache;
  readonly files: IndexFileState;
  /** Where the memory is in the database's history (what other processes wrote). */
  readonly follow: FollowState;
  /** Recent query vectors of a remote embedder. */
  readonly queryVectors: QueryVectors;
}
