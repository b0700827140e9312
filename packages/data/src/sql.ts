/**
 * The SQL both implementations run. Migrations are the crate's .sql files; the native
 * side has the same statement text in crates/data/src (analytics.rs, store.rs), which a
 * test checks.
 */
import initial from '../../../crates/data/migrations/0001_initial.sql';
import access from '../../../crates/data/migrations/0002_access.sql';
import history from '../../../crates/data/migrations/0003_history.sql';

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
];

export const LATEST_SCHEMA_VERSION = 3;

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
export const FRAGMENT_UPSERT = `INSERT INTO fragments (id, namespace, text, metadata, attributes, vector,
    created_at, updated_at, use_count, last_used_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
  ON CONFLICT (id) DO UPDATE SET namespace = excluded.namespace, text = excluded.text,
    metadata = excluded.metadata, attributes = excluded.attributes,
    vector = CASE WHEN (?11 & 2) AND excluded.vector IS NULL THEN vector ELSE excluded.vector END,
    updated_at = excluded.updated_at,
    use_count = CASE WHEN ?11 & 4 THEN excluded.use_count ELSE use_count END,
    last_used_at = CASE WHEN ?11 & 8 THEN excluded.last_used_at ELSE last_used_at END`;

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
export const CHANGE_INSERT =
  'INSERT INTO fragment_changes (fragment_id, kind, data, created_at) VALUES (?1, ?2, ?3, ?4)';

/** The history row of a deletion: written only when the fragment is there to delete. */
export const CHANGE_INSERT_IF_PRESENT = `INSERT INTO fragment_changes (fragment_id, kind, data, created_at)
  SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM fragments WHERE id = ?1)`;

/** Analytics queries by name; parameters are ?1 from, ?2 to (ms), ?3 limit, ?4 event type. */
export const ANALYTICS_SQL = {
  messagesPerDay: `SELECT date(d * 86400, 'unixepoch') AS day, messages, conversations
FROM (SELECT created_at / 86400000 AS d, count(*) AS messages,
        count(DISTINCT conversation_id) AS conversations
      FROM messages WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d)
ORDER BY d`,
  tokensPerDay: `SELECT date(d * 86400, 'unixepoch') AS day, model, messages,
  prompt_tokens, completion_tokens, prompt_tokens + completion_tokens AS total_tokens
FROM (SELECT created_at / 86400000 AS d, model, count(*) AS messages,
        sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens
      FROM messages WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d, model)
ORDER BY d, model`,
  tokensPerModel: `SELECT model, count(*) AS messages,
  sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
  sum(prompt_tokens) + sum(completion_tokens) AS total_tokens
FROM messages WHERE created_at >= ?1 AND created_at < ?2
GROUP BY model ORDER BY total_tokens DESC, model`,
  memoryGrowth: `SELECT date(d * 86400, 'unixepoch') AS day, added,
  (SELECT count(*) FROM fragments WHERE created_at < ?1) + sum(added) OVER (ORDER BY d) AS total
FROM (SELECT created_at / 86400000 AS d, count(*) AS added
      FROM fragments WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d)
ORDER BY d`,
  topFragments: `SELECT id, substr(text, 1, 200) AS preview, use_count, last_used_at
FROM fragments WHERE use_count > 0
ORDER BY use_count DESC, last_used_at DESC, id LIMIT ?3`,
  feedbackPerDay: `SELECT date(d * 86400, 'unixepoch') AS day, count, average, min, max
FROM (SELECT created_at / 86400000 AS d, count(*) AS count, avg(rating) AS average,
        min(rating) AS min, max(rating) AS max
      FROM feedback WHERE created_at >= ?1 AND created_at < ?2 GROUP BY d)
ORDER BY d`,
  feedbackSummary: `SELECT count(*) AS count, avg(rating) AS average,
  min(rating) AS min, max(rating) AS max
FROM feedback WHERE created_at >= ?1 AND created_at < ?2`,
  eventsPerDay: `SELECT date(d * 86400, 'unixepoch') AS day, type, count, sum, average, min, max
FROM (SELECT created_at / 86400000 AS d, type, count(*) AS count, sum(value) AS sum,
        avg(value) AS average, min(value) AS min, max(value) AS max
      FROM events WHERE created_at >= ?1 AND created_at < ?2 AND (?4 IS NULL OR type = ?4)
      GROUP BY d, type)
ORDER BY d, type`,
} as const;

export type AnalyticsQuery = keyof typeof ANALYTICS_SQL;
