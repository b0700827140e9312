/**
 * The SQL both implementations run. Migrations, analytics queries and the fragment writes
 * are the crate's .sql files (crates/data/migrations, crates/data/sql), which the Rust side
 * includes with `include_str!` and this file imports as text: one copy of each.
 */
import initial from '../../../crates/data/migrations/0001_initial.sql';
import access from '../../../crates/data/migrations/0002_access.sql';
import history from '../../../crates/data/migrations/0003_history.sql';
import exchanges from '../../../crates/data/migrations/0004_exchanges.sql';
import enterprise from '../../../crates/data/migrations/0005_enterprise.sql';
import sources from '../../../crates/data/migrations/0006_sources.sql';
import links from '../../../crates/data/migrations/0007_links.sql';
import eventsPerDaySql from '../../../crates/data/sql/analytics/events_per_day.sql';
import feedbackPerDaySql from '../../../crates/data/sql/analytics/feedback_per_day.sql';
import feedbackSummarySql from '../../../crates/data/sql/analytics/feedback_summary.sql';
import memoryGrowthSql from '../../../crates/data/sql/analytics/memory_growth.sql';
import messagesPerDaySql from '../../../crates/data/sql/analytics/messages_per_day.sql';
import tokensPerDaySql from '../../../crates/data/sql/analytics/tokens_per_day.sql';
import tokensPerModelSql from '../../../crates/data/sql/analytics/tokens_per_model.sql';
import topFragmentsSql from '../../../crates/data/sql/analytics/top_fragments.sql';
import changeInsertSql from '../../../crates/data/sql/fragments/change_insert.sql';
import fragmentUpsertSql from '../../../crates/data/sql/fragments/upsert.sql';
import newDatabase from '../../../crates/data/sql/new_database.sql';

/** `PRAGMA application_id` of an AIOS database: "AIOS" in ASCII. */
export const APPLICATION_ID = 0x41494f53;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Forward-only migrations; `version` is `PRAGMA user_version` after the step. The SQL is
 * crates/data/migrations/*.sql itself, which the Rust side includes too: the build (and
 * the tests) load `.sql` imports as text, so there is one copy.
 */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'access', sql: access },
  { version: 3, name: 'history', sql: history },
  { version: 4, name: 'exchanges', sql: exchanges },
  { version: 5, name: 'enterprise', sql: enterprise },
  { version: 6, name: 'sources', sql: sources },
  { version: 7, name: 'links', sql: links },
];

export const LATEST_SCHEMA_VERSION = 7;

/** The page size of a new database (see the file). */
export const NEW_DATABASE_PRAGMAS: string = newDatabase;

/**
 * Per-connection settings both implementations apply: foreign keys on, a page cache of
 * up to 64 MiB (allocated as used; it also bounds the memory of a sort before it spills,
 * so a GROUP BY over a million rows stays in memory). A sort that does spill goes to a
 * temporary file, which measured 10-15% faster than SQLite's in-memory temp store; the
 * js implementation keeps its temporary files in memory (its VFS is the wasm one).
 */
export const SESSION_PRAGMAS = 'PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;';

/**
 * The upsert of a fragment: a new id is inserted; an existing one keeps its `created_at`,
 * and its vector and use statistics unless the flags (`?11`, `FRAGMENT_FLAG`) say to set
 * them. Same text as `FRAGMENT_UPSERT` in crates/data/src/store.rs.
 */
export const FRAGMENT_UPSERT = fragmentUpsertSql;

/** The namespace of fragments written without one (the column default of migration 3). */
export const DEFAULT_FRAGMENT_NAMESPACE = 'default';

/** Per-row flags of a fragment batch (the FRAGMENT_* constants of crates/data). */
export const FRAGMENT_FLAG = {
  HAS_VECTOR: 1,
  /** A row without a vector keeps the stored one instead of clearing it. */
  KEEP_VECTOR: 2,
  SET_USE_COUNT: 4,
  SET_LAST_USED: 8,
} as const;

/** One history row; same text as CHANGE_INSERT in crates/data/src/store.rs. */
export const CHANGE_INSERT = changeInsertSql;

/** The history row of a deletion: written only when the fragment is there to delete. */
export const CHANGE_INSERT_IF_PRESENT = `INSERT INTO fragment_changes (fragment_id, kind, data, created_at)
  SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM fragments WHERE id = ?1)`;

/**
 * The messages of one exchange: its expression is the one of the index messages_exchange
 * (migration 4), so that SQLite uses it.
 */
export const MESSAGES_BY_EXCHANGE =
  "SELECT * FROM messages WHERE json_extract(metadata, '$.exchangeId') = ?1 ORDER BY id";

/** Analytics queries by name; parameters are ?1 from, ?2 to (ms), ?3 limit, ?4 event type. */
export const ANALYTICS_SQL = {
  messagesPerDay: messagesPerDaySql,
  tokensPerDay: tokensPerDaySql,
  tokensPerModel: tokensPerModelSql,
  memoryGrowth: memoryGrowthSql,
  topFragments: topFragmentsSql,
  feedbackPerDay: feedbackPerDaySql,
  feedbackSummary: feedbackSummarySql,
  eventsPerDay: eventsPerDaySql,
} as const;

export type AnalyticsQuery = keyof typeof ANALYTICS_SQL;
