import type { Dialect, WriteLock } from '../dialect.js';

/**
 * The second key of each lock; 1 is also the change sequence's (sql/change_seq_lock.sql).
 * The first is the schema's: stores in other schemas (tenants) never wait for these.
 */
const LOCKS: Record<WriteLock, number> = { history: 1, audit: 2, numbering: 3, dimension: 4 };

/** Identity columns an import may have filled with its own ids. */
const IDENTITIES = ['messages', 'feedback', 'personality_states', 'events'];

export const POSTGRES_DIALECT: Dialect = {
  name: 'postgres',
  // READ COMMITTED: writers run side by side; those that must not take the locks below.
  begin: 'BEGIN',
  lock: (lock) => `SELECT pg_advisory_xact_lock(hashtext(current_schema()), ${LOCKS[lock]})`,
  // The index messages_exchange holds the exchange id as JSON: a number 7 is not "7".
  messagesByExchange:
    "SELECT * FROM messages WHERE (metadata::jsonb) -> 'exchangeId' = to_jsonb(?1::text) ORDER BY id",
  historyInNamespace:
    "SELECT DISTINCT fragment_id FROM fragment_changes WHERE kind != 'erase' AND data IS NOT NULL AND (data::jsonb) -> 'namespace' = to_jsonb(?1::text)",
  fragmentsFromSource:
    "SELECT id FROM fragments WHERE namespace = ?1 AND (metadata::jsonb) -> 'source' = to_jsonb(?2::text) ORDER BY created_at, id",
  // The first two conditions are fragments_linking's own: the planner reads that index.
  fragmentsLinkingTo:
    "SELECT id FROM fragments WHERE jsonb_typeof(attributes::jsonb -> 'links') = 'array' AND attributes::jsonb -> 'links' <> '[]'::jsonb AND (attributes::jsonb -> 'links') @> jsonb_build_array(?1::text)",
  // PostgreSQL has no secure delete: compact() rewrites the tables (VACUUM FULL).
  secureDelete: null,
  returningIds: true,
  tableColumns: (table) =>
    `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '${table}'`,
  deferForeignKeys: 'SET CONSTRAINTS ALL DEFERRED',
  afterImport: [
    'UPDATE aios_change_seq SET last = greatest(last, (SELECT coalesce(max(seq), 0) FROM fragment_changes))',
    ...IDENTITIES.map(
      (table) =>
        `SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce(max(id), 0) + 1, false) FROM ${table}`,
    ),
  ].join(';\n'),
};
