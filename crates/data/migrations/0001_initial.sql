-- AIOS data store, schema version 1. Times are integer milliseconds since the Unix epoch;
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
