import type { ChangeHandlers, ChangeWatch, ClusterLockResult, NamespaceErasure } from '@aios/data';
import type { ReadOnlyCause } from '@aios/utils';
import type { EmbeddingRoles } from './embedding-roles.js';

export type MetadataValue = string | number | boolean | null | Array<string | number | boolean>;
export type Metadata = Record<string, MetadataValue>;

/** A memory fragment as CARMA stores it. */
export interface FragmentRecord {
  id: string;
  /** Index label (u32), stable for the life of the fragment. */
  label: number;
  namespace: string;
  text: string;
  /** BLAKE3 hex of the text: identical texts in one namespace are stored once. */
  contentHash: string;
  metadata: Metadata;
  /** 0 to 1; reinforcement raises it. */
  importance: number;
  /** Core memories are exempt from recency decay. */
  core: boolean;
  createdAt: number;
  updatedAt: number;
  accessedAt: number;
  accessCount: number;
  reinforcements: number;
  version: number;
  /**
   * Provenance: ids of fragments merged into this one by consolidation, or content hashes
   * of near-duplicate texts merged in on add (they were never stored on their own).
   */
  mergedFrom: string[];
  /** Related fragments (consolidation). */
  links: string[];
}

/** A stored fragment's record and its vector (undefined: none stored). */
export interface RecordWithVector {
  record: FragmentRecord;
  vector: Float32Array | undefined;
}

export type ChangeKind = 'add' | 'update' | 'delete' | 'reinforce' | 'merge' | 'link';

/** One entry of a fragment's history: what it was after the change. */
export interface FragmentChange {
  version: number;
  kind: ChangeKind;
  at: number;
  text: string;
  metadata: Metadata;
  importance: number;
  /**
   * The fragment's namespace (absent in entries written before it was recorded): what an
   * erasure of the namespace finds the history of deleted fragments by.
   */
  namespace?: string;
  /** Free-form detail (e.g. the ids merged in). */
  note?: string;
}

/** The vector index file last written: `index-<generation>.bin`, up to date at `seq`. */
export interface IndexCheckpoint {
  generation: number;
  /** The store's latest history seq when the file was written. */
  seq: number;
}

/** What the store records about the index it feeds. */
export interface StoreMeta {
  embedder: string;
  dimension: number;
  /** How queries and documents were embedded, when they differ (absent: alike). */
  roles?: EmbeddingRoles;
  metric: 'cosine' | 'dot';
  nextLabel: number;
  index?: IndexCheckpoint;
}

/** Called while a store opens (`FragmentStore.open`). A hook that throws fails the open. */
export interface OpenHooks {
  /** Sees the meta; answering `{ fragments: false }` skips reading the fragments. */
  meta?(meta: StoreMeta | undefined): { fragments: boolean } | undefined;
  /**
   * The meta to record when the store has none (undefined: none yet, e.g. a remote
   * embedder whose dimension is not known): recorded at open, once, so that two processes
   * with different embedders cannot each take an empty store for theirs. The loser of a
   * race sees the winner's meta.
   */
  claim?(): StoreMeta | undefined;
}

export interface StoredMemory {
  meta: StoreMeta | undefined;
  /** Every fragment, without its vector (undefined when the meta hook said not to read them). */
  fragments: FragmentRecord[] | undefined;
  /**
   * The history position read before the fragments: they reflect at least every change
   * up to it (a change made while they were read may show or not; it is after it).
   */
  seq: number;
  /** The lowest label not yet handed out, as the store's label counter says. */
  nextLabel: number;
}

/** A fragment write: `vector` absent keeps the stored one. */
export interface FragmentWrite {
  fragment: FragmentRecord;
  vector?: Float32Array;
  change: FragmentChange;
}

/**
 * The persistence CARMA needs: fragments with their vectors and full history, access
 * statistics, and a little state. Every write is one transaction, durable on return.
 * `createDataFragmentStore` implements it on @aios/data.
 */
export interface FragmentStore {
  /** The database file, or undefined when the store lives in memory only. */
  readonly location: string | undefined;
  /**
   * Why the store is open to read only (its database is in a folder that cannot be
   * written: `DataStore.readOnly`), known once `open` returned; undefined when it takes
   * writes. A memory on a read-only store writes nothing: no access, no index file.
   */
  readonly readOnly?: ReadOnlyCause | undefined;
  /**
   * Fragment changes written through this store since it was opened (what makes a new
   * index checkpoint worthwhile); on a shared store, those taken in from other writers too.
   */
  readonly written: number;
  /**
   * Notes changes of other writers the memory took in: on a shared store, whose index
   * checkpoint is the home's own, they count as `written` (so a server that only follows
   * writes its own index file as well); elsewhere nothing.
   */
  noteFollowed?(changes: number): void;
  /**
   * Opens the store and loads its state and fragments; `hooks` see the meta before any
   * fragment is read (work on the index files can start then).
   */
  open(hooks?: OpenHooks): Promise<StoredMemory>;
  /** Every fragment, without its vector, in one snapshot. */
  readAll(): Promise<FragmentRecord[]>;
  /**
   * Up to `limit` fragments without their vectors, by id, after `after` (from the first
   * when undefined), and the id to read the next page after (undefined after the last):
   * one read, so that other reads of the store run between pages.
   */
  readPage(
    after: string | undefined,
    limit: number,
  ): Promise<{ records: FragmentRecord[]; next: string | undefined }>;
  /** Records the meta (a no-op when it did not change). */
  setMeta(meta: StoreMeta): Promise<void>;
  /** Adds or replaces fragments with a history entry each, and `meta` when given. */
  put(items: FragmentWrite[], meta?: StoreMeta): Promise<void>;
  /**
   * Stores fragments under new labels, taken from the store's label counter (not below
   * `lowestLabel`) in the same transaction, so that no other writer, in this process or
   * another, gets the same ones; sets `fragment.label` of each item. Otherwise `put`.
   * `onLabeled` is called in that transaction with the first label (item i gets
   * `first + i`) before the rows are written; its throw rolls the batch back.
   */
  add(
    items: FragmentWrite[],
    options: { meta?: StoreMeta; lowestLabel: number; onLabeled?: (first: number) => void },
  ): Promise<void>;
  /** The stored fragments by id, in the order asked (undefined: no such fragment). */
  read(ids: readonly string[]): Promise<Array<FragmentRecord | undefined>>;
  /** `read`, each record with its vector: one read of the store rather than `read` and `vectors`. */
  readWithVectors(ids: readonly string[]): Promise<Array<RecordWithVector | undefined>>;
  /** The meta as stored now. */
  readMeta(): Promise<StoreMeta | undefined>;
  /**
   * Whether the caller is inside a transaction of the underlying store (what it reads
   * then may still be rolled back).
   */
  inTransaction(): boolean;
  /**
   * The history rows written through this store since the last call (exactly as many as
   * it wrote), and the fragments they are about; taking them starts the count again.
   */
  takeOwnWrites(): { rows: number; ids: Set<string> };
  /** What `takeOwnWrites` would return, without taking it. */
  ownWrites(): Readonly<{ rows: number; ids: ReadonlySet<string> }>;
  /**
   * How many transactions of the underlying store ended without committing (see
   * `DataStore.rollbacks`); 0 without one.
   */
  rollbacks(): number;
  /** Deletes fragments with a history entry each; the history is kept. */
  delete(items: Array<{ id: string; change: FragmentChange }>): Promise<void>;
  /**
   * Erases a namespace for good: its fragments, their vectors and the history of every
   * fragment ever in it (with `ids`, fragments known to have been merged into them), and
   * its source records; one data-less `erase` history row per fragment erased.
   */
  eraseNamespace(namespace: string, ids: readonly string[]): Promise<NamespaceErasure>;
  /**
   * Gives every fragment a new vector (another embedder), with `meta` and a history entry
   * each, in one transaction.
   */
  replaceVectors(
    items: Array<{ id: string; vector: Float32Array; change: FragmentChange }>,
    meta: StoreMeta,
  ): Promise<void>;
  /** Vectors by id, in the order asked (undefined: no fragment or no vector). */
  vectors(ids: readonly string[]): Promise<Array<Float32Array | undefined>>;
  /** A fragment's history, oldest first (also after it was deleted). */
  history(id: string): Promise<FragmentChange[]>;
  /** The fragments whose links name any of `ids`, read from the store. */
  linkingTo(ids: readonly string[]): Promise<FragmentRecord[]>;
  /** Ids changed after history position `seq`, and the latest position. */
  changedSince(seq: number): Promise<{ ids: Set<string>; seq: number }>;
  /** The latest history position. */
  latestSeq(): Promise<number>;
  /**
   * Notices of changes committed by any writer, when the store sends them (a shared
   * PostgreSQL database); undefined or absent when it does not.
   */
  watchChanges?(handlers: ChangeHandlers): ChangeWatch | undefined;
  /**
   * Runs `fn` unless another process on the store runs work of this name (PostgreSQL:
   * servers sharing the database); absent or on SQLite, `fn` runs.
   */
  withClusterLock?<T>(name: string, fn: () => Promise<T>): Promise<ClusterLockResult<T>>;
  /** Records an access (`accessCount`, `accessedAt`); written in batches, soon after. */
  touch(fragment: FragmentRecord): void;
  /** Writes the accesses recorded so far. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
