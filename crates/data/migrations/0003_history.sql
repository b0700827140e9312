-- Schema version 3: fragment namespaces, system-owned attributes and change history.
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
