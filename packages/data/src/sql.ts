/**
 * The SQL both implementations run. The native side has the same text in
 * crates/data (migrations/*.sql and src/analytics.rs); a test checks that they agree.
 */

/** `PRAGMA application_id` of an AIOS database: "AIOS" in ASCII. */
export const APPLICATION_ID = 0x41494f53;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Forward-only migrations; `version` is `PRAGMA user_version` after the step. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `-- AIOS data store, schema version 1. Times are integer milliseconds since the Unix epoch;
-- metadata and states are JSON text; vectors are little-endian float32 blobs.
CREATE TABLE meta (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
);

CREATE TABLE fragments (
  id TEXT PRIMARY KEY NOT NULL,
  text TEXT NOT NULL,
  metadata TEXT NOT NULL DEFAULT '{}',
  vector BLOB,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  use_count INTEGER NOT NULL DEFAULT 0,
  last_used_at INTEGER
);
CREATE INDEX fragments_created_at ON fragments (created_at);
CREATE INDEX fragments_use_count ON fragments (use_count) WHERE use_count > 0;

CREATE TABLE conversations (
  id TEXT PRIMARY KEY NOT NULL,
  title TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE messages (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
  content TEXT NOT NULL,
  model TEXT,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
-- Covering index of the analytics: a range of days is read from the index alone.
CREATE INDEX messages_usage ON messages
  (created_at, conversation_id, model, prompt_tokens, completion_tokens);

CREATE TABLE feedback (
  id INTEGER PRIMARY KEY,
  conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
  message_id INTEGER REFERENCES messages (id) ON DELETE SET NULL,
  rating REAL NOT NULL CHECK (rating >= 1 AND rating <= 5),
  comment TEXT,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE INDEX feedback_created_at ON feedback (created_at);

CREATE TABLE personality_states (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX personality_states_name ON personality_states (name, id);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  value REAL,
  data TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX events_usage ON events (created_at, type, value);
CREATE INDEX events_type_created_at ON events (type, created_at);
`,
  },
  {
    version: 2,
    name: 'access',
    sql: `-- Schema version 2: API keys and the audit log (used by the enterprise API).
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  data TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX audit_log_created_at ON audit_log (created_at);
`,
  },
  {
    version: 3,
    name: 'history',
    sql: `-- Schema version 3: fragment namespaces, system-owned attributes and change history.
-- attributes holds what the owning system keeps about a fragment (JSON), apart from the
-- user's metadata. History rows are append-only and outlive their fragment (there is no
-- reference to fragments); seq never goes back (AUTOINCREMENT), so "what changed since
-- seq N" is a range scan that cannot miss a change.
ALTER TABLE fragments ADD COLUMN namespace TEXT NOT NULL DEFAULT 'default';
ALTER TABLE fragments ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
CREATE INDEX fragments_namespace ON fragments (namespace, id);

CREATE TABLE fragment_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  fragment_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  data TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX fragment_changes_fragment ON fragment_changes (fragment_id, seq);
`,
  },
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
