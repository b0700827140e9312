/**
 * The store's write locks are keyed by its schema, so that the stores of one database
 * (one per tenant) never wait for one another's writes: the dialect's locks take
 * `hashtext(current_schema())` as their first key, and the change sequence's function,
 * made with the schema at version 6 on a database-wide key, is replaced by one with the
 * same key as the dialect (sql/change_seq_lock.sql). Not part of the schema version,
 * which SQLite shares.
 */
import type { PgConnection } from './connection.js';
import { underMigrationLock } from './migrate.js';
import changeSeqLockSql from './sql/change_seq_lock.sql';

/** Whether the schema's change-sequence function takes the schema's own lock. */
async function scoped(conn: PgConnection): Promise<boolean> {
  const { rows } = await conn.query<{ n: number }>(
    `SELECT count(*) AS n FROM pg_proc
      WHERE proname = 'aios_take_change_seqs' AND pronamespace = current_schema()::regnamespace
        AND prosrc LIKE '%hashtext(current_schema())%'`,
  );
  return Number(rows[0]?.n) > 0;
}

/** Replaces a change-sequence function on the database-wide key, under the migration lock. */
export async function ensureSchemaLocks(conn: PgConnection): Promise<void> {
  if (await scoped(conn)) return;
  await underMigrationLock(conn, async () => {
    if (!(await scoped(conn))) await conn.exec(changeSeqLockSql);
  });
}
