-- Schema version 6: the files ingested into the memory, so that ingesting again keeps the
-- memory in step with them. `sources` holds each file (per namespace) as it was when last
-- ingested completely (content_hash NULL while its first ingest is under way); an
-- unchanged file is skipped. `source_pieces` maps each piece of a file, by the hash of its
-- text as ingested, to the fragment it became: a piece whose fragment is gone was deleted
-- by the user and is not added again, and one whose fragment's text differs was edited.
-- Neither table references fragments: a piece outlives its fragment on purpose.
CREATE TABLE sources (
  namespace TEXT NOT NULL,
  path TEXT NOT NULL,
  content_hash TEXT,
  size INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  ingested_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, path)
);
CREATE TABLE source_pieces (
  namespace TEXT NOT NULL,
  path TEXT NOT NULL,
  piece_hash TEXT NOT NULL,
  fragment_id TEXT NOT NULL,
  PRIMARY KEY (namespace, path, piece_hash)
);
CREATE INDEX source_pieces_fragment ON source_pieces (fragment_id);
