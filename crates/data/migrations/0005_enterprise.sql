-- Schema version 5: what a server on this home needs to let others in — tenants, their
-- API keys (only a hash of each secret is kept), and an append-only audit log in which
-- each entry holds the hash of the one before it, so that an edited, removed, inserted or
-- reordered entry breaks the chain.
-- Version 2 created placeholder api_keys and audit_log tables that nothing ever wrote:
-- they are replaced by these.
DROP INDEX IF EXISTS audit_log_created_at;
DROP TABLE IF EXISTS audit_log;
DROP TABLE IF EXISTS api_keys;
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  settings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  tenant_id TEXT,
  key_id TEXT,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  status INTEGER,
  request_id TEXT,
  target TEXT,
  details TEXT NOT NULL DEFAULT '{}',
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
