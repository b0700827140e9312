import type { ImplementationReport, ReadOnlyCause } from '@aios/utils';
import type { ApiKeyRepository, AuditRepository, TenantRepository } from './access-types.js';
import type { SourceRepository } from './source-types.js';

/** A JSON object: metadata and states are stored as JSON text. */
export type JsonObject = { [key: string]: unknown };

/** Milliseconds since the Unix epoch, or a Date. */
export type Timestamp = number | Date;

/** A JSON value: what owners keep in the store's key/value state (`DataStore.meta`). */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** One entry of a fragment's history, as written. */
export interface StoredFragmentChangeInput {
  /** What happened, e.g. `add`, `update`, `delete`. */
  kind: string;
  /** What the fragment was after the change, or any detail. */
  data?: JsonObject | null;
  /** Default: now. */
  at?: Timestamp;
}

export interface StoredFragmentInput {
  /** Caller's id (e.g. a content id); a random UUID when absent. Existing ids are replaced. */
  id?: string;
  /** Default `default`; a replace moves the fragment to this namespace. */
  namespace?: string;
  text: string;
  /** The user's fields. */
  metadata?: JsonObject;
  /** What the owning system keeps about the fragment (importance, links...), apart from `metadata`. */
  attributes?: JsonObject;
  /**
   * Float32 embedding; every vector in a store has the same dimension. Absent or null on a
   * replace: the stored vector is dropped, unless `keepVectors` is set.
   */
  vector?: Float32Array | null;
  /** When the fragment was created (kept on a replace). Default: now. */
  createdAt?: Timestamp;
  /** Default: `createdAt` as given (or now). */
  updatedAt?: Timestamp;
  /** Sets the use count; absent: kept on a replace, 0 when new. */
  useCount?: number;
  /** Sets the last use (null: never); absent: kept on a replace, null when new. */
  lastUsedAt?: Timestamp | null;
  /** Recorded in the fragment's history, in the same transaction as the write. */
  change?: StoredFragmentChangeInput;
}

export interface PutOptions {
  /** Fragments given without a vector keep their stored vector instead of losing it. */
  keepVectors?: boolean;
  /** More history rows, for any fragment id (an importer's), in the same transaction. */
  history?: ReadonlyArray<StoredFragmentChangeInput & { fragmentId: string }>;
  /** Owner state (see `DataStore.meta`) set in the same transaction. */
  meta?: Record<string, JsonValue>;
}

/**
 * Numbers for a batch from a counter the store keeps in `meta`, taken in the batch's own
 * transaction, so that writers in other processes never get the same ones.
 */
export interface Numbering {
  /** The `meta` key of the counter (a key of the caller's, like any meta key). */
  counter: string;
  /** The attribute each fragment's number is written to (replacing any given). */
  attribute: string;
  /** The lowest number to hand out (e.g. where numbering kept elsewhere got to). */
  floor?: number;
}

export interface NumberedPutOptions extends PutOptions {
  numbering: Numbering;
  /**
   * Called inside the transaction once the batch's numbers are taken, before its rows are
   * written, with the first of them (row i gets `first + i`): work that needs the numbers
   * (indexing the rows) can start beside the write. A throw rolls the batch back and
   * `putNumbered` rejects with it.
   */
  onNumbered?: (first: number) => void;
}

export interface DeleteOptions {
  /** `changes[i]` is recorded in the history of `ids[i]`, when that fragment existed. */
  changes?: readonly StoredFragmentChangeInput[];
}

export interface ReplaceVectorsOptions {
  /** The new dimension: every vector given must have it; needed when none is given. */
  dimension?: number;
  /** Owner state (see `DataStore.meta`) set in the same transaction. */
  meta?: Record<string, JsonValue>;
}

export interface ReadOptions {
  /** Default true; false leaves `vector` null and reads less. */
  vectors?: boolean;
}

export interface StoredFragment {
  id: string;
  namespace: string;
  text: string;
  metadata: JsonObject;
  attributes: JsonObject;
  /** A view on the bytes read from the database (no per-element copy), or null. */
  vector: Float32Array | null;
  createdAt: number;
  updatedAt: number;
  useCount: number;
  lastUsedAt: number | null;
}

/** One entry of a fragment's history, as read. */
export interface StoredFragmentChange {
  /** Position in the store's history: grows with every change, never reused. */
  seq: number;
  fragmentId: string;
  kind: string;
  data: JsonObject | null;
  at: number;
}

/** Uses of one fragment to count (`FragmentRepository.recordUses`). */
export interface FragmentUse {
  id: string;
  /** How many uses; default 1. */
  count?: number;
  /** When the last of them was; default now. */
  at?: Timestamp;
}

export interface FragmentRepository {
  /** Inserts or replaces fragments in one transaction; returns their ids in order. */
  put(fragments: readonly StoredFragmentInput[], options?: PutOptions): Promise<string[]>;
  /**
   * `put`, giving every fragment of the batch the next number of a counter (in order),
   * in the same transaction; returns the ids and the numbers.
   */
  putNumbered(
    fragments: readonly StoredFragmentInput[],
    options: NumberedPutOptions,
  ): Promise<{ ids: string[]; numbers: number[] }>;
  get(id: string, options?: ReadOptions): Promise<StoredFragment | undefined>;
  /** Fragments by id in the order asked; unknown ids are skipped. */
  getMany(ids: readonly string[], options?: ReadOptions): Promise<StoredFragment[]>;
  /** Pages through all fragments (or one namespace's) by id. */
  list(
    options?: { after?: string; limit?: number; namespace?: string } & ReadOptions,
  ): Promise<StoredFragment[]>;
  /**
   * Every fragment, read in one snapshot of the database and in no particular order (the
   * order cheapest to read), handed to `visit` a page at a time: for reading all of them,
   * as opening a memory does. Natively the pages are read off the JS thread. Other calls
   * on the store wait until the scan ends, so `visit` must not wait for one.
   */
  scan(visit: (page: StoredFragment[]) => void, options?: ReadOptions): Promise<void>;
  /** Deletes in one transaction; returns how many existed. History is kept. */
  delete(ids: readonly string[], options?: DeleteOptions): Promise<number>;
  count(options?: { namespace?: string }): Promise<number>;
  /**
   * Ids of the fragments whose attributes' `links` array names any of `ids` (the fragments
   * that link to one being deleted). Read through an index of the fragments that link to
   * others: the cost grows with those, not with the table.
   */
  linkingTo(ids: readonly string[]): Promise<string[]>;
  /** Adds one use per id (an id given twice, two) at `at` (for "most used" analytics); the uses counted. */
  markUsed(ids: readonly string[], at?: Timestamp): Promise<number>;
  /**
   * Adds `count` uses of each fragment, the last at `at` (a time before the stored one
   * leaves it), in one transaction: what a cache of accesses writes at once. Returns the
   * uses counted (unknown ids count none).
   */
  recordUses(uses: readonly FragmentUse[]): Promise<number>;
  /** The store's vector dimension, once known. */
  dimension(): Promise<number | undefined>;
  /**
   * Gives fragments new vectors and makes their dimension the store's, in one transaction
   * (re-embedding with another model). Every fragment that has a vector must get one,
   * else nothing changes (`DATA_DIMENSION_MISMATCH`); an unknown id fails with
   * `DATA_NOT_FOUND`. Returns how many were replaced.
   */
  replaceVectors(
    vectors: ReadonlyArray<{
      id: string;
      vector: Float32Array;
      change?: StoredFragmentChangeInput;
    }>,
    options?: ReplaceVectorsOptions,
  ): Promise<number>;
  /** A fragment's history, oldest first; it outlives the fragment. */
  history(
    id: string,
    options?: { after?: number; limit?: number },
  ): Promise<StoredFragmentChange[]>;
  /**
   * The ids with history recorded after `seq` (0: ever), and the latest seq now (below the
   * one given when the history went back, e.g. a restored backup).
   */
  changedSince(seq: number): Promise<{ ids: string[]; seq: number }>;
  /** The seq of the latest history row (0: none yet). */
  latestChange(): Promise<number>;
  /**
   * Erases a namespace in one transaction: its fragments and their vectors, the history of
   * every fragment ever in it (also deleted ones: those its source records name, those whose
   * history rows record the namespace, and `ids`), and its source records. Each erased
   * fragment keeps one history row of kind `erase` without data, so that other processes
   * drop it. Freed bytes are zeroed; `DataStore.compact` then leaves none in the files.
   */
  eraseNamespace(
    namespace: string,
    options?: { ids?: readonly string[] },
  ): Promise<NamespaceErasure>;
}

/** What `eraseNamespace` removed. */
export interface NamespaceErasure {
  namespace: string;
  fragments: number;
  vectors: number;
  /** History rows removed. */
  history: number;
  sources: number;
  sourcePieces: number;
  /** The fragments erased (those that were there, and deleted ones whose history went). */
  ids: string[];
  /** When the oldest of what was erased was written (ms), null when nothing was. */
  since: number | null;
}

/** What `DataStore.compact` did. */
export interface CompactResult {
  pagesBefore: number;
  pagesAfter: number;
  /** Whether the write-ahead log was copied into the file and emptied (a reader may stop it). */
  checkpointed: boolean;
}

/**
 * Small key/value state for the systems that own data in the store (e.g. which embedder
 * wrote the vectors). Values are JSON. Keys the store uses itself are refused.
 */
export interface MetaRepository {
  get(key: string): Promise<JsonValue | undefined>;
  set(key: string, value: JsonValue): Promise<void>;
  /**
   * Sets `key` unless it is set, in one statement: of processes that race to set it, one
   * wins. Returns whether this call set it.
   */
  setIfAbsent(key: string, value: JsonValue): Promise<boolean>;
  /** Returns whether the key existed. */
  delete(key: string): Promise<boolean>;
}

export interface ConversationInput {
  id?: string;
  title?: string | null;
  metadata?: JsonObject;
  createdAt?: Timestamp;
}

export interface Conversation {
  id: string;
  title: string | null;
  metadata: JsonObject;
  createdAt: number;
  updatedAt: number;
}

export interface ConversationRepository {
  create(input?: ConversationInput): Promise<Conversation>;
  get(id: string): Promise<Conversation | undefined>;
  /**
   * Most recently updated first (then by id). `after` continues a listing after that
   * conversation (its `updatedAt` and `id` as listed): unlike `offset`, deleting
   * conversations between pages skips none of the others.
   */
  list(options?: {
    limit?: number;
    offset?: number;
    after?: { updatedAt: number; id: string };
  }): Promise<Conversation[]>;
  /** Deletes the conversation and its messages. */
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
}

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface MessageInput {
  conversationId: string;
  role: Role;
  content: string;
  model?: string | null;
  promptTokens?: number;
  completionTokens?: number;
  metadata?: JsonObject;
  createdAt?: Timestamp;
}

export interface Message {
  id: number;
  conversationId: string;
  role: Role;
  content: string;
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  metadata: JsonObject;
  createdAt: number;
}

export interface MessageRepository {
  /** Appends messages in one transaction; returns their ids in order. */
  add(messages: readonly MessageInput[]): Promise<number[]>;
  /** A conversation's messages, oldest first. */
  list(conversationId: string, options?: { afterId?: number; limit?: number }): Promise<Message[]>;
  /**
   * The messages of one exchange (messages written together, such as a question and its
   * answer, each with the string `metadata.exchangeId`), oldest first: one index lookup.
   */
  byExchange(exchangeId: string): Promise<Message[]>;
  count(): Promise<number>;
}

export interface FeedbackInput {
  conversationId?: string | null;
  messageId?: number | null;
  /** 1 (worst) to 5 (best). */
  rating: number;
  comment?: string | null;
  metadata?: JsonObject;
  createdAt?: Timestamp;
}

export interface Feedback {
  id: number;
  conversationId: string | null;
  messageId: number | null;
  rating: number;
  comment: string | null;
  metadata: JsonObject;
  createdAt: number;
}

export interface FeedbackRepository {
  add(feedback: readonly FeedbackInput[]): Promise<number[]>;
  /** Newest first. */
  list(options?: { limit?: number }): Promise<Feedback[]>;
  /** Deletes feedback rows (a feedback taken back); returns how many existed. */
  delete(ids: readonly number[]): Promise<number>;
}

export interface PersonalityState {
  id: number;
  name: string;
  state: JsonObject;
  createdAt: number;
}

export interface PersonalityRepository {
  /** Records a new version of the named state. */
  save(name: string, state: JsonObject, at?: Timestamp): Promise<PersonalityState>;
  latest(name: string): Promise<PersonalityState | undefined>;
  /** Newest first. */
  history(name: string, options?: { limit?: number }): Promise<PersonalityState[]>;
}

export interface EventInput {
  /** What happened, e.g. `chat.turn`, `latency.ms`, `fragment.used`. */
  type: string;
  value?: number | null;
  data?: JsonObject | null;
  createdAt?: Timestamp;
}

export interface StoredEvent {
  id: number;
  type: string;
  value: number | null;
  data: JsonObject | null;
  createdAt: number;
}

export interface EventRepository {
  /** Appends events in one transaction; returns how many. */
  add(events: readonly EventInput[]): Promise<number>;
  /** Newest first. */
  list(options?: TimeRange & { type?: string; limit?: number }): Promise<StoredEvent[]>;
  count(): Promise<number>;
}

/** `[from, to)`; both optional. */
export interface TimeRange {
  from?: Timestamp;
  to?: Timestamp;
}

export interface MessagesPerDay {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  messages: number;
  conversations: number;
}

export interface TokenUsage {
  messages: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface TokensPerDay extends TokenUsage {
  day: string;
  model: string | null;
}

export interface TokensPerModel extends TokenUsage {
  model: string | null;
}

export interface MemoryGrowth {
  day: string;
  added: number;
  /** Fragments in the store at the end of that day. */
  total: number;
}

export interface TopFragment {
  id: string;
  /** The first 200 characters. */
  preview: string;
  useCount: number;
  lastUsedAt: number | null;
}

export interface FeedbackStats {
  count: number;
  /** Null when there is no feedback in the range. */
  average: number | null;
  min: number | null;
  max: number | null;
}

export interface FeedbackPerDay extends FeedbackStats {
  day: string;
}

export interface EventsPerDay {
  day: string;
  type: string;
  count: number;
  sum: number | null;
  average: number | null;
  min: number | null;
  max: number | null;
}

/** Aggregates computed inside the database; only the result rows reach JavaScript. */
export interface Analytics {
  messagesPerDay(range?: TimeRange): Promise<MessagesPerDay[]>;
  tokensPerDay(range?: TimeRange): Promise<TokensPerDay[]>;
  tokensPerModel(range?: TimeRange): Promise<TokensPerModel[]>;
  memoryGrowth(range?: TimeRange): Promise<MemoryGrowth[]>;
  topFragments(limit?: number): Promise<TopFragment[]>;
  feedbackSummary(range?: TimeRange): Promise<FeedbackStats>;
  feedbackPerDay(range?: TimeRange): Promise<FeedbackPerDay[]>;
  eventsPerDay(options?: TimeRange & { type?: string }): Promise<EventsPerDay[]>;
}

export type ExportFormat = 'json' | 'jsonl';

export interface TransferSummary {
  format: ExportFormat;
  path: string;
  /** Rows per table. */
  tables: Record<string, number>;
}

export interface ImportOptions {
  /** Default: from the file name (`.jsonl` or else json). */
  format?: ExportFormat;
  /** Replace rows whose id exists instead of failing with DATA_CONSTRAINT. */
  replace?: boolean;
}

/** What `DataStore.watchChanges` calls. */
export interface ChangeHandlers {
  /** Every change up to history position `seq` is committed (by any process on the database). */
  onChange(seq: number): void;
  /**
   * Notices may have been missed (the listening connection was opened or opened again):
   * compare with the latest position (`fragments.latestChange`).
   */
  onResync(): void;
}

/** A subscription to a store's change notices. */
export interface ChangeWatch {
  /** Whether notices arrive now: the listening connection is up. */
  readonly live: boolean;
  /** Ends the subscription; the listening connection closes with the last one. */
  close(): Promise<void>;
}

/** What `DataStore.withClusterLock` did: ran `fn`, or skipped it (another holder). */
export type ClusterLockResult<T> = { status: 'ran'; value: T } | { status: 'skipped' };

/**
 * The storage interface the other cores use. Every method is asynchronous and every
 * batch is atomic, so that a server database (PostgreSQL) can implement it as well.
 */
/**
 * How a store opened to read only reads its database, writing nothing to it or beside it
 * (SQLite's rules for a WAL database it cannot write: the `-wal` and `-shm` must be there
 * already, or it is opened `immutable`):
 * - `immutable`: no commit waits in a WAL, the database file holds them all; read with no
 *   lock taken;
 * - `shared-index`: a WAL with its shared-memory index beside it, read with SQLite's shared
 *   locks (native only): a writer working beside this store (the home's owner) is followed
 *   safely;
 * - `private-index`: a WAL without one (as the js implementation leaves it): its index is
 *   built in this process's memory, with no lock; no writer may work beside it (the open
 *   refuses while one holds the database).
 */
export type ReadOnlyAccess = 'immutable' | 'shared-index' | 'private-index';

/** Why and how a store is open to read only (`DataStore.readOnly`). */
export interface ReadOnlyStore {
  /**
   * `filesystem`: the database's folder is on a filesystem mounted read-only (EROFS);
   * `permissions`: this user may not write it (EACCES, EPERM); `asked`: `readOnly: true`.
   */
  cause: ReadOnlyCause;
  access: ReadOnlyAccess;
}

export interface DataStore {
  readonly implementation: ImplementationReport['implementation'];
  readonly report: ImplementationReport;
  /**
   * Set when the store is open to read only (see `OpenDataStoreOptions.readOnly`): it took
   * no lease, migrated nothing, and every write fails with `IO_READ_ONLY`, changing
   * nothing. Undefined for a store open to write (and every PostgreSQL store).
   */
  readonly readOnly: ReadOnlyStore | undefined;
  /**
   * The database file, or `:memory:`; for a PostgreSQL store, its URL without the
   * password (`postgres://aios@db.example:5432/aios`).
   */
  readonly path: string;
  /** Which database holds the store: an SQLite file, or a PostgreSQL server. */
  readonly database: 'sqlite' | 'postgres';
  readonly fragments: FragmentRepository;
  readonly meta: MetaRepository;
  readonly conversations: ConversationRepository;
  readonly messages: MessageRepository;
  readonly feedback: FeedbackRepository;
  readonly personality: PersonalityRepository;
  readonly events: EventRepository;
  readonly analytics: Analytics;
  /** Tenants of a server on this home. */
  readonly tenants: TenantRepository;
  /** API keys (hashes of their secrets), by tenant. */
  readonly apiKeys: ApiKeyRepository;
  /** The hash-chained audit log. */
  readonly audit: AuditRepository;
  /** The files ingested into the memory and the fragments their pieces became. */
  readonly sources: SourceRepository;
  schemaVersion(): Promise<number>;
  /** Writes every table to a JSON or JSONL file, atomically. */
  exportTo(path: string, options?: { format?: ExportFormat }): Promise<TransferSummary>;
  /** Reads an export back, all or nothing. */
  importFrom(path: string, options?: ImportOptions): Promise<TransferSummary>;
  /**
   * Writes a consistent, compacted copy of the database to `path` (replaced atomically),
   * while other connections keep reading and writing: what a backup should copy instead
   * of the live file and its WAL. Not for `:memory:` stores; a PostgreSQL store fails with
   * `DATA_NOT_SUPPORTED` (its server is backed up with pg_dump).
   */
  snapshotTo(path: string): Promise<{ path: string; bytes: number }>;
  /**
   * `PRAGMA integrity_check`: `ok` or the problems found. On PostgreSQL, amcheck's check
   * of every index of the store's tables (`DATA_NOT_SUPPORTED` without the extension).
   */
  integrityCheck(): Promise<string>;
  /**
   * Rewrites the database without free pages and empties its write-ahead log into it
   * (VACUUM, then a TRUNCATE checkpoint): no byte of a deleted row stays in either file.
   * Takes as long as copying the database; not inside a transaction. On PostgreSQL,
   * `VACUUM FULL` of the tables an erasure writes (fragments, history, sources), then a
   * `CHECKPOINT` when the role may run one (`checkpointed`).
   */
  compact(): Promise<CompactResult>;
  /**
   * Runs `fn` as one transaction: every call on this store made from inside `fn` (by `fn`,
   * or by another core sharing the store, such as CARMA) is committed together when `fn`
   * resolves, or rolled back when it rejects (then the error is rethrown). Calls from
   * outside wait until it ends. `tx` is this store. A transaction inside a transaction is
   * part of it; `close`, `importFrom` and `snapshotTo` inside one fail with
   * `DATA_IN_TRANSACTION`. The transaction begins at the first call from inside, so let
   * another core write first: waiting inside for work that waits for this store from
   * outside never ends.
   */
  transaction<T>(fn: (tx: DataStore) => Promise<T>): Promise<T>;
  /**
   * Whether the calling context is inside a `transaction` of this store: what it reads
   * includes that transaction's writes, which a rollback may still take back.
   */
  inTransaction(): boolean;
  /**
   * How many transactions of this store ended without committing (rolled back, or a
   * commit that failed) since it opened. Counted before the store's next call runs: a
   * caller that saw a transaction's writes from inside learns, once a call of its own
   * outside returns, whether they were committed (the count did not move) or may not be.
   */
  rollbacks(): number;
  /**
   * Subscribes to notices of committed history (PostgreSQL: LISTEN on one dedicated
   * connection per store, opened again with backoff when lost, `onResync` after every
   * connect). Undefined on SQLite, which has no notices: read `fragments.latestChange()`.
   */
  watchChanges(handlers: ChangeHandlers): ChangeWatch | undefined;
  /**
   * Runs `fn` unless another process on the same database runs work of this `name` now,
   * so that periodic work of several servers on one PostgreSQL runs once (a session
   * advisory lock on a connection of its own, held while `fn` runs). On SQLite `fn` runs.
   */
  withClusterLock<T>(name: string, fn: () => Promise<T>): Promise<ClusterLockResult<T>>;
  close(): Promise<void>;
}
