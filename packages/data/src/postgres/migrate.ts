import type { SqlRow } from '../driver.js';
import { DataErrorCode, dataError } from '../errors.js';
import { LATEST_SCHEMA_VERSION } from '../sql.js';
import { atomic } from './bulk.js';
import type { PgConnection } from './connection.js';
import { LOCK_KEY, POSTGRES_MIGRATIONS } from './sql.js';

/** The store's schema version in the connection's schema (0: none). */
export async function schemaVersion(conn: PgConnection): Promise<number> {
  const { rows } = await conn.query<SqlRow>(
    'SELECT coalesce(max(version), 0) AS version FROM schema_migrations',
  );
  return Number(rows[0]?.version ?? 0);
}

/**
 * Fails unless the database's current schema is empty or holds an AIOS store this version
 * can use; runs before anything is written.
 */
async function check(conn: PgConnection, display: string): Promise<number> {
  const { rows } = await conn.query<SqlRow>(
    `SELECT count(*) AS tables, count(*) FILTER (WHERE tablename IN ('schema_migrations', 'meta', 'fragments')) AS ours
       FROM pg_tables WHERE schemaname = current_schema()`,
  );
  const tables = Number(rows[0]?.tables ?? 0);
  if (tables === 0) return 0;
  if (Number(rows[0]?.ours ?? 0) < 3) {
    throw dataError(
      DataErrorCode.DATA_FOREIGN_DATABASE,
      `${display} holds ${tables} tables of another application (no AIOS schema): give AIOS a database of its own`,
      { details: { url: display, tables } },
    );
  }
  const version = await schemaVersion(conn);
  if (version > LATEST_SCHEMA_VERSION) {
    throw dataError(
      DataErrorCode.DATA_SCHEMA_TOO_NEW,
      `${display} has schema version ${version}, newer than this @aios/data supports (${LATEST_SCHEMA_VERSION}); upgrade @aios/data`,
      { details: { url: display, version } },
    );
  }
  return version;
}

/**
 * Brings the database to the latest schema, each migration in its own transaction, under
 * a session advisory lock: processes that start together wait for one another, and the
 * second finds the work done. A store in a schema of its own (`schema`, already the
 * connection's search_path) creates it first.
 */
export function migrate(conn: PgConnection, display: string, schema?: string): Promise<void> {
  return underMigrationLock(conn, async () => {
    // A checked plain identifier (postgresSchema): nothing to quote.
    if (schema !== undefined) await conn.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const version = await check(conn, display);
    for (const migration of POSTGRES_MIGRATIONS) {
      if (migration.version <= version) continue;
      await atomic(conn, async () => {
        await conn.exec(migration.sql);
        await conn.query(
          'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)',
          [migration.version, migration.name, Date.now()],
        );
      });
    }
  });
}

/**
 * Runs `fn` holding the session advisory lock of schema changes: processes that start
 * together wait for one another, and each one after the first finds the work done.
 */
export async function underMigrationLock<T>(conn: PgConnection, fn: () => Promise<T>): Promise<T> {
  await conn.query('SELECT pg_advisory_lock(?1, 0)', [LOCK_KEY]);
  try {
    return await fn();
  } finally {
    await conn.query('SELECT pg_advisory_unlock(?1, 0)', [LOCK_KEY]).catch(() => undefined);
  }
}
