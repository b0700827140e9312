import type { ImplementationReport, NativeMode } from '@aios/utils';
import type { AnalyticsArgs, SqlDriver, SqlRow, SqlValue } from '../driver.js';
import { DataErrorCode, dataError } from '../errors.js';
import type { Maintenance } from '../store.js';
import { addEvents, addMessages, putFragments, recordFragmentUses, runBatch } from './bulk.js';
import { withClusterLock } from './cluster-lock.js';
import { type ConnectOptions, PgConnection } from './connection.js';
import { POSTGRES_DIALECT } from './dialect.js';
import { getFragments, listFragments, scanFragments } from './fragments.js';
import { integrityCheck, postgresMaintenance } from './maintenance.js';
import { migrate, schemaVersion } from './migrate.js';
import { ChangeNotices, ensureChangeNotices } from './notices.js';
import { ensureSchemaLocks } from './schema-locks.js';
import { POSTGRES_ANALYTICS_SQL } from './sql.js';
import { postgresTarget } from './url.js';

export interface PostgresStoreParts {
  driver: SqlDriver;
  maintenance: Maintenance;
  /** The URL without its password. */
  display: string;
  report: ImplementationReport;
}

/**
 * An analytics query with only the parameters it uses, renumbered: PostgreSQL cannot type
 * a parameter that no expression uses (SQLite's queries may skip `?3`).
 */
function analyticsStatement(sql: string, args: AnalyticsArgs): [string, SqlValue[]] {
  const all: SqlValue[] = [args.from, args.to, args.limit, args.type];
  const used = [1, 2, 3, 4].filter((n) => sql.includes(`?${n}`));
  let text = sql;
  used.forEach((n, i) => {
    text = text.replaceAll(`?${n}`, `?${i + 1}`);
  });
  return [text, used.map((n) => all[n - 1] as SqlValue)];
}

/** node-postgres, loaded only when a PostgreSQL store is opened: SQLite users never load it. */
export async function loadPg(): Promise<typeof import('pg')> {
  try {
    const module = (await import('pg')) as unknown as { default?: typeof import('pg') };
    return (module.default ?? module) as typeof import('pg');
  } catch (error) {
    throw dataError(
      DataErrorCode.DATA_NOT_SUPPORTED,
      `a PostgreSQL store needs the pg package (npm i pg): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Opens a PostgreSQL store's connection (one per store, used one call at a time like
 * SQLite's) and migrates the database. Several processes use one database together, each
 * with its own connection: that is how a PostgreSQL deployment scales out.
 */
export async function openPostgres(
  location: string,
  options: ConnectOptions & { password?: string; schema?: string; mode: NativeMode },
): Promise<PostgresStoreParts> {
  const target = postgresTarget(location, options.password, options.schema);
  const pg = await loadPg();
  const conn = await PgConnection.open(pg, target, options);
  try {
    await migrate(conn, target.display, target.schema);
    await ensureChangeNotices(conn);
    await ensureSchemaLocks(conn);
  } catch (error) {
    await conn.close();
    throw error;
  }
  const notices = new ChangeNotices(pg, target, options);
  const query = async (sql: string, params?: readonly SqlValue[]) =>
    (await conn.query<SqlRow>(sql, params)).rows;
  const driver: SqlDriver = {
    implementation: 'js',
    dialect: POSTGRES_DIALECT,
    checksVectors: false,
    query,
    run: async (sql, params) => ({
      changes: (await conn.query(sql, params)).rowCount,
      // PostgreSQL has no last insert id: repositories use RETURNING (dialect.returningIds).
      lastInsertRowid: 0,
    }),
    exec: (sql) => conn.exec(sql),
    begin: () => conn.exec(POSTGRES_DIALECT.begin),
    commit: () => conn.exec('COMMIT'),
    rollback: () => conn.exec('ROLLBACK'),
    runBatch: (sql, rows) => runBatch(conn, sql, rows),
    putFragments: (b) => putFragments(conn, b),
    getFragments: (ids, withVectors) => getFragments(conn, ids, withVectors),
    listFragments: (after, limit, namespace, withVectors) =>
      listFragments(conn, after, limit, namespace, withVectors),
    scanFragments: (withVectors, visit) => scanFragments(conn, withVectors, visit),
    recordFragmentUses: (ids, counts, ats) => recordFragmentUses(conn, ids, counts, ats),
    addMessages: (b) => addMessages(conn, b),
    addEvents: (b) => addEvents(conn, b),
    analytics(name, args) {
      return query(...analyticsStatement(POSTGRES_ANALYTICS_SQL[name], args));
    },
    integrityCheck: () => integrityCheck(conn, target.display),
    schemaVersion: () => schemaVersion(conn),
    settleStatements: () => undefined,
    watchChanges: (handlers) => notices.watch(handlers),
    clusterLock: (name, fn) => withClusterLock(pg, target, options, name, fn),
    async close() {
      await notices.close();
      await conn.close();
    },
  };
  return {
    driver,
    maintenance: postgresMaintenance(conn, target.display),
    display: target.display,
    report: {
      core: '@aios/data',
      implementation: 'js',
      mode: options.mode,
      reason: `PostgreSQL at ${target.display} (node-postgres)`,
      loadErrors: [],
    },
  };
}
