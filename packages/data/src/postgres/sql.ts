/**
 * PostgreSQL's SQL where it differs from SQLite's: the schema (one migration to version
 * 6, the same schema version as SQLite's), the analytics queries and the bulk fragment
 * writes. Imported as text, as the SQLite files are.
 */

import type { ANALYTICS_SQL, Migration } from '../sql.js';
import initial from './migrations/0006_initial.sql';
import links from './migrations/0007_links.sql';
import changeInsertManySql from './sql/change_insert_many.sql';
import eventsPerDaySql from './sql/events_per_day.sql';
import feedbackPerDaySql from './sql/feedback_per_day.sql';
import feedbackSummarySql from './sql/feedback_summary.sql';
import fragmentUpsertSql from './sql/fragment_upsert.sql';
import memoryGrowthSql from './sql/memory_growth.sql';
import messagesPerDaySql from './sql/messages_per_day.sql';
import tokensPerDaySql from './sql/tokens_per_day.sql';
import tokensPerModelSql from './sql/tokens_per_model.sql';
import topFragmentsSql from './sql/top_fragments.sql';

/**
 * Forward-only migrations of a PostgreSQL store, by the schema version they reach: a new
 * database goes to version 6 in one step; a later SQLite migration gets its PostgreSQL
 * counterpart here under the same number.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  { version: 6, name: 'initial', sql: initial },
  { version: 7, name: 'links', sql: links },
];

/** The analytics of sql.ts's `ANALYTICS_SQL`, in PostgreSQL's SQL (same parameters). */
export const POSTGRES_ANALYTICS_SQL: Record<keyof typeof ANALYTICS_SQL, string> = {
  messagesPerDay: messagesPerDaySql,
  tokensPerDay: tokensPerDaySql,
  tokensPerModel: tokensPerModelSql,
  memoryGrowth: memoryGrowthSql,
  topFragments: topFragmentsSql,
  feedbackPerDay: feedbackPerDaySql,
  feedbackSummary: feedbackSummarySql,
  eventsPerDay: eventsPerDaySql,
};

/**
 * A batch of fragments in one statement: columns as arrays (`?1`-`?5` text, `?8` each
 * row's vector index or null, `?9`-`?12` times and use statistics), the vectors as one
 * bytea (`?6`, `?7` bytes each), and the flags the rows share (`?13`, `FRAGMENT_FLAG`):
 * an existing id keeps its `created_at`, and its vector and use statistics unless the
 * flags say to set them, as SQLite's upsert does.
 */
export const FRAGMENT_UPSERT_MANY = fragmentUpsertSql;

/** History rows from arrays (`?1`-`?4`), numbered from `?5` (taken by `TAKE_CHANGE_SEQS`). */
export const CHANGE_INSERT_MANY = changeInsertManySql;

/** Takes `?1` seqs of the change sequence (and its lock, see the migration); the first. */
export const TAKE_CHANGE_SEQS = 'SELECT aios_take_change_seqs(?1) AS first';

/** The key of the store's advisory locks: "AIOS" (the SQLite application_id). */
export const LOCK_KEY = 0x41494f53;
