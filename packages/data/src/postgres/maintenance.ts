/**
 * What `snapshotTo`, `compact` and `integrityCheck` mean for a PostgreSQL store (they are
 * SQLite operations on the database file).
 */
import { AiosError } from '@aios/utils';
import type { SqlRow } from '../driver.js';
import { DataErrorCode, dataError } from '../errors.js';
import type { Maintenance } from '../store.js';
import type { PgConnection } from './connection.js';

/**
 * A CHECKPOINT, so that the server may recycle the WAL that still holds erased rows; false
 * when the role may not run one (it needs pg_checkpoint or superuser).
 */
export async function checkpoint(conn: PgConnection): Promise<boolean> {
  try {
    await conn.exec('CHECKPOINT');
    return true;
  } catch (error) {
    if (!(error instanceof AiosError)) throw error;
    return false;
  }
}

/** The tables an erasure writes: what `compact` rewrites. */
const ERASED_TABLES = ['fragments', 'fragment_changes', 'sources', 'source_pieces'];

async function pages(conn: PgConnection): Promise<number> {
  const { rows } = await conn.query<SqlRow>(
    `SELECT coalesce(sum(pg_table_size(c.oid)), 0) / current_setting('block_size')::bigint AS pages
       FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(?1::text[])`,
    [ERASED_TABLES],
  );
  return Number(rows[0]?.pages ?? 0);
}

export function postgresMaintenance(conn: PgConnection, display: string): Maintenance {
  return {
    async snapshotTo() {
      throw dataError(
        DataErrorCode.DATA_NOT_SUPPORTED,
        `snapshotTo copies an SQLite database file; the store at ${display} is a PostgreSQL database: back it up with pg_dump`,
        { details: { database: 'postgres' } },
      );
    },
    /**
     * `VACUUM FULL` rewrites the tables erasure writes into new files without the dead
     * rows (the old files are removed), then a CHECKPOINT, when the role may run one, lets
     * the server recycle the WAL that still holds them.
     */
    async compact() {
      const before = await pages(conn);
      await conn.exec(`VACUUM FULL ${ERASED_TABLES.join(', ')}`);
      const checkpointed = await checkpoint(conn);
      return { pagesBefore: before, pagesAfter: await pages(conn), checkpointed };
    },
  };
}

/**
 * amcheck's `bt_index_check` (with every heap tuple looked up in the index) over each
 * index of the store's schema: `ok`, or one line per problem. Without the extension in
 * the database, `DATA_NOT_SUPPORTED` says how to add it.
 */
export async function integrityCheck(conn: PgConnection, display: string): Promise<string> {
  const installed = await conn.query("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'");
  if (installed.rowCount === 0) {
    throw dataError(
      DataErrorCode.DATA_NOT_SUPPORTED,
      `${display}: the integrity check of a PostgreSQL store runs amcheck, which this database does not have (CREATE EXTENSION amcheck, as a superuser)`,
    );
  }
  const { rows } = await conn.query<SqlRow>(
    `SELECT c.relname AS name FROM pg_index i
       JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_am a ON a.oid = c.relam
       WHERE a.amname = 'btree' AND c.relnamespace = current_schema()::regnamespace
       ORDER BY c.relname`,
  );
  const problems: string[] = [];
  for (const row of rows) {
    try {
      await conn.query('SELECT bt_index_check(?1::regclass, true)', [String(row.name)]);
    } catch (error) {
      problems.push(`index ${String(row.name)}: ${(error as Error).message}`);
    }
  }
  return problems.length === 0 ? 'ok' : problems.join('\n');
}
