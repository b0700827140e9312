import { PgConnection } from './connection.js';
import { loadPg } from './driver.js';
import { checkpoint } from './maintenance.js';
import { postgresTarget } from './url.js';

export interface DropSchemaOptions {
  /** The PostgreSQL password, when the URL has none. */
  password?: string;
  /** The schema to drop with everything in it. */
  schema: string;
  /** How long to wait for the server to accept the connection. Default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * Drops schema `schema` of the database at `url` with every table, row and function in it
 * (`DROP SCHEMA ... CASCADE`, one statement: all or nothing): how a store opened with that
 * schema is erased. Stores still open on it fail at their next call. Then a CHECKPOINT,
 * when the role may run one, lets the server recycle the WAL that still holds the rows
 * (as `compact` does). Whether it existed, and whether the checkpoint ran.
 */
export async function dropPostgresSchema(
  url: string,
  options: DropSchemaOptions,
): Promise<{ dropped: boolean; checkpointed: boolean }> {
  const target = postgresTarget(url, options.password, options.schema);
  const conn = await PgConnection.open(await loadPg(), target, {
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
  });
  try {
    const { rowCount } = await conn.query('SELECT 1 FROM pg_namespace WHERE nspname = ?1', [
      target.schema,
    ]);
    // A checked plain identifier (postgresSchema): nothing to quote.
    await conn.exec(`DROP SCHEMA IF EXISTS ${target.schema} CASCADE`);
    return { dropped: rowCount > 0, checkpointed: await checkpoint(conn) };
  } finally {
    await conn.close();
  }
}
