/**
 * The statements whose SQL differs between SQLite and PostgreSQL. Everything else the
 * repositories run is written once (with `?1` placeholders, which the PostgreSQL driver
 * numbers as `$1`); the SQLite text of these stays where it was (sql.ts and
 * crates/data/sql, which the Rust side reads too), and PostgreSQL's is in postgres/.
 */
import { MESSAGES_BY_EXCHANGE } from './sql.js';

/**
 * Writers that must not interleave. On SQLite a write transaction holds the whole
 * database (BEGIN IMMEDIATE), so these cost nothing there; on PostgreSQL each is an
 * advisory lock held to the end of the transaction.
 */
export type WriteLock = 'history' | 'audit' | 'numbering' | 'dimension';

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Begins a write transaction. */
  readonly begin: string;
  /** The statement that takes `lock` until the transaction ends; null when none is needed. */
  lock(lock: WriteLock): string | null;
  /** The messages of one exchange (`?1`), oldest first, through their index. */
  readonly messagesByExchange: string;
  /** Ids of fragments whose history data records the namespace `?1` (erase rows aside). */
  readonly historyInNamespace: string;
  /** Ids of the fragments of namespace `?1` whose metadata names `?2` as their source. */
  readonly fragmentsFromSource: string;
  /**
   * Ids of the fragments whose attributes' `links` array holds the string `?1`, through the
   * index of the fragments that link to others (schema version 7).
   */
  readonly fragmentsLinkingTo: string;
  /** Statements around an erasure that make freed bytes zeroed; null when unsupported. */
  readonly secureDelete: { on: string; off: string } | null;
  /**
   * Whether inserts learn their row ids with `RETURNING id` (PostgreSQL: several writers
   * take ids at once) instead of the connection's last insert id.
   */
  readonly returningIds: boolean;
  /** The column names (as `name`) of `table` (one of the store's own, never user input). */
  tableColumns(table: string): string;
  /** Makes the foreign keys of the transaction checked at commit (an import). */
  readonly deferForeignKeys: string;
  /** Run after an import that set ids itself: counters and sequences catch up. */
  readonly afterImport: string | null;
}

export const SQLITE_DIALECT: Dialect = {
  name: 'sqlite',
  // Takes the write lock at once: the transaction's reads see what it will write over.
  begin: 'BEGIN IMMEDIATE',
  lock: () => null,
  messagesByExchange: MESSAGES_BY_EXCHANGE,
  historyInNamespace:
    "SELECT DISTINCT fragment_id FROM fragment_changes WHERE kind != 'erase' AND json_valid(data) AND json_extract(data, '$.namespace') = ?1",
  fragmentsFromSource:
    "SELECT id FROM fragments WHERE namespace = ?1 AND json_valid(metadata) AND json_extract(metadata, '$.source') = ?2 AND json_type(metadata, '$.source') = 'text' ORDER BY created_at, id",
  // The first condition is fragments_linking's own: the planner reads that index alone.
  fragmentsLinkingTo:
    "SELECT id FROM fragments WHERE CASE WHEN json_valid(attributes) THEN json_array_length(attributes, '$.links') ELSE 0 END > 0 AND EXISTS (SELECT 1 FROM json_each(attributes, '$.links') WHERE value = ?1)",
  secureDelete: { on: 'PRAGMA secure_delete = ON', off: 'PRAGMA secure_delete = OFF' },
  returningIds: false,
  tableColumns: (table) => `PRAGMA table_info(${table})`,
  deferForeignKeys: 'PRAGMA defer_foreign_keys = ON',
  afterImport: null,
};
