import type { AnalyticsQuery } from './sql.js';

/** A value SQLite stores: what drivers take as parameters and give back in rows. */
export type SqlValue = null | number | bigint | string | Uint8Array;
export type SqlRow = Record<string, SqlValue>;

export interface FragmentColumns {
  ids: string[];
  texts: string[];
  metadata: string[];
  timestamps: Float64Array;
  /** 1 where the row has a vector; the vectors of those rows are packed in `vectors`. */
  hasVector: Uint8Array;
  dimension: number;
  vectors: Float32Array;
}

export interface FragmentRowsOut {
  ids: string[];
  texts: string[];
  metadata: string[];
  createdAt: ArrayLike<number>;
  updatedAt: ArrayLike<number>;
  useCount: ArrayLike<number>;
  /** NaN where never used. */
  lastUsedAt: ArrayLike<number>;
  /** Views on the stored bytes (zero-copy where the implementation allows), or null. */
  vectors: (Float32Array | null)[];
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
  types: string[];
  /** NaN: no value. */
  values: Float64Array;
  /** Empty string: no data. */
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
 * What each implementation provides: synchronous SQL on one connection plus the bulk
 * paths. The store (store.ts) builds the repositories on top, once for both.
 * Every failure is an `AiosError` with a code.
 */
export interface SqlDriver {
  readonly implementation: 'native' | 'js';
  query(sql: string, params?: readonly SqlValue[]): SqlRow[];
  run(sql: string, params?: readonly SqlValue[]): { changes: number; lastInsertRowid: number };
  exec(sql: string): void;
  /** Runs `sql` once per parameter row in one transaction (a savepoint inside one). */
  runBatch(sql: string, rows: readonly (readonly SqlValue[])[]): number;
  putFragments(batch: FragmentColumns): number;
  getFragments(ids: string[]): FragmentRowsOut;
  markFragmentsUsed(ids: string[], at: number): number;
  addMessages(batch: MessageColumns): number[];
  addEvents(batch: EventColumns): number;
  analytics(name: AnalyticsQuery, args: AnalyticsArgs): Promise<SqlRow[]>;
  integrityCheck(): string;
  schemaVersion(): number;
  close(): void;
}

export interface DriverOptions {
  /** `synchronous=FULL` (survives power loss) instead of NORMAL (survives crashes). */
  synchronousFull: boolean;
  busyTimeoutMs: number;
}

/** Which of ?1..?4 a statement uses: SQLite expects exactly that many parameters. */
export function analyticsParams(sql: string, args: AnalyticsArgs): SqlValue[] {
  const all: SqlValue[] = [args.from, args.to, args.limit, args.type];
  let used = 0;
  for (let i = 1; i <= 4; i++) if (sql.includes(`?${i}`)) used = i;
  return all.slice(0, used);
}
