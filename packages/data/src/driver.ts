import type { Awaitable } from './awaitable.js';
import type { Dialect } from './dialect.js';
import type { AnalyticsQuery } from './sql.js';
import type {
  ChangeHandlers,
  ChangeWatch,
  ClusterLockResult,
  ReadOnlyAccess,
  StoredFragment,
} from './types.js';

/** A value the database stores: what drivers take as parameters and give back in rows. */
export type SqlValue = null | number | bigint | string | Uint8Array;
export type SqlRow = Record<string, SqlValue>;

export interface FragmentColumns {
  ids: string[];
  /** The distinct namespaces of the batch: row i is in `namespaces[namespaceIndex[i]]`. */
  namespaces: string[];
  namespaceIndex: Uint32Array;
  texts: string[];
  metadata: string[];
  attributes: string[];
  /** Four per row: createdAt, updatedAt, useCount, lastUsedAt (NaN: never). */
  numbers: Float64Array;
  /** `FRAGMENT_FLAG` bits per row; the vectors of the rows that have one are packed in `vectors`. */
  flags: Uint8Array;
  dimension: number;
  vectors: Float32Array;
  /** History rows written in the same transaction. */
  changes: ChangeColumns;
}

export interface ChangeColumns {
  fragmentIds: string[];
  kinds: string[];
  /** JSON, or '' for none. */
  data: string[];
  at: Float64Array;
}

export interface MessageColumns {
  conversationIds: string[];
  roles: string[];
  contents: string[];
  /** Empty string: no model. */
  models: string[];
  promptTokens: Float64Array;
  completionTokens: Float64Array;
  metadata: string[];
  timestamps: Float64Array;
}

export interface EventColumns {
  /** The distinct types of the batch: row i has type `types[typeIndex[i]]`. */
  types: string[];
  typeIndex: Uint32Array;
  /** NaN: no value. */
  values: Float64Array;
  /** 1 where the row has data; the data JSON of those rows is packed in `data`. */
  hasData: Uint8Array;
  data: string[];
  timestamps: Float64Array;
}

export interface AnalyticsArgs {
  from: number;
  to: number;
  limit: number;
  type: string | null;
}

/**
 * What each implementation provides: SQL on one connection plus the bulk paths. The store
 * (store.ts) builds the repositories on top, once for every driver. A method gives back
 * its result (the SQLite drivers, synchronous underneath) or a promise of it (PostgreSQL):
 * the repositories await it, so one set of repositories serves both. Every failure is an
 * `AiosError` with a code. Statements are written with `?1`, `?2`... placeholders; where
 * the SQL itself differs, `dialect` has the statement.
 */
export interface SqlDriver {
  readonly implementation: 'native' | 'js';
  readonly dialect: Dialect;
  /**
   * Whether `putFragments` refuses non-finite vector components itself, before writing
   * (with `INVALID_INPUT`). The store then skips its own per-component scan.
   */
  readonly checksVectors: boolean;
  /** How a driver opened to read only (`DriverOptions.readOnly`) reads its database. */
  readonly readOnlyAccess?: ReadOnlyAccess;
  /**
   * A number that differs from the last one whenever the database may have changed since
   * (a row changed through this connection, a commit through any other), read at once;
   * undefined when it cannot be read without waiting (the connection is busy elsewhere).
   * Absent where the database gives no such number (PostgreSQL).
   */
  changeToken?(): number | undefined;
  query(sql: string, params?: readonly SqlValue[]): Awaitable<SqlRow[]>;
  run(
    sql: string,
    params?: readonly SqlValue[],
  ): Awaitable<{ changes: number; lastInsertRowid: number }>;
  exec(sql: string): Awaitable<void>;
  /** Starts a transaction (`dialect.begin`). */
  begin(): Awaitable<void>;
  /**
   * Commits the open transaction: on the libuv pool when it wrote a batch there (the native
   * driver's `putFragments` off the JS thread), so that the commit's writes wait there too.
   */
  commit(): Awaitable<void>;
  rollback(): Awaitable<void>;
  /** Runs `sql` once per parameter row in one transaction (a savepoint inside one). */
  runBatch(sql: string, rows: readonly (readonly SqlValue[])[]): Awaitable<number>;
  putFragments(batch: FragmentColumns): Awaitable<number>;
  /**
   * Fragments by id in the order asked, unknown ids skipped: the objects callers get.
   * Without `withVectors` the vectors are not read (null).
   */
  getFragments(ids: readonly string[], withVectors: boolean): Awaitable<StoredFragment[]>;
  /** Up to `limit` fragments with ids after `after` (of `namespace` when given), by id. */
  listFragments(
    after: string,
    limit: number,
    namespace: string | null,
    withVectors: boolean,
  ): Awaitable<StoredFragment[]>;
  /**
   * Every fragment, read in one snapshot of the database, in the order cheapest to read
   * (storage order), handed to `visit` a page at a time: what opening a memory reads.
   */
  scanFragments(withVectors: boolean, visit: (page: StoredFragment[]) => void): Awaitable<void>;
  /** `counts[i]` uses of `ids[i]`, the last at `ats[i]`, in one transaction; the uses counted. */
  recordFragmentUses(ids: string[], counts: number[], ats: number[]): Awaitable<number>;
  addMessages(batch: MessageColumns): Awaitable<number[]>;
  addEvents(batch: EventColumns): Awaitable<number>;
  analytics(name: AnalyticsQuery, args: AnalyticsArgs): Promise<SqlRow[]>;
  integrityCheck(): Awaitable<string>;
  schemaVersion(): Awaitable<number>;
  /**
   * Ends every prepared statement still in progress (a read stepped once and kept for
   * reuse), before SQL that needs none running on the connection, such as `VACUUM`.
   */
  settleStatements(): Awaitable<void>;
  /** Notices of committed history (`DataStore.watchChanges`); absent: none (SQLite). */
  watchChanges?(handlers: ChangeHandlers): ChangeWatch;
  /** `DataStore.withClusterLock` across processes; absent: `fn` simply runs (SQLite). */
  clusterLock?<T>(name: string, fn: () => Promise<T>): Promise<ClusterLockResult<T>>;
  close(): Awaitable<void>;
}

export interface DriverOptions {
  /** `synchronous=FULL` (survives power loss) instead of NORMAL (survives crashes). */
  synchronousFull: boolean;
  busyTimeoutMs: number;
  /**
   * Open an existing database to read only, writing nothing (no migration, no `-wal` or
   * `-shm` made, no lock file): see read-only.ts.
   */
  readOnly?: boolean;
}

/** Which of ?1..?4 a statement uses: SQLite expects exactly that many parameters. */
export function analyticsParams(sql: string, args: AnalyticsArgs): SqlValue[] {
  const all: SqlValue[] = [args.from, args.to, args.limit, args.type];
  let used = 0;
  for (let i = 1; i <= 4; i++) if (sql.includes(`?${i}`)) used = i;
  return all.slice(0, used);
}
