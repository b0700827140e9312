import { SQLITE_DIALECT } from '../dialect.js';
import { analyticsParams, type DriverOptions, type SqlDriver, type SqlRow } from '../driver.js';
import { ANALYTICS_SQL } from '../sql.js';
import { addEvents, addMessages, putFragments, recordFragmentUses, runBatch } from './bulk.js';
import { Connection } from './connection.js';
import { getFragments, listFragments, scanFragments } from './fragments.js';
import { openDatabase, openReadOnlyDatabase } from './open.js';

/** `SqlDriver.changeToken`: as the native store reads it (`Store::change_token`). */
const CHANGE_TOKEN_SQL = 'SELECT data_version + total_changes() AS token FROM pragma_data_version';

/**
 * The js implementation: SQLite compiled to WebAssembly (node-sqlite3-wasm) on a Node fs
 * VFS, so the file is a regular SQLite database that the native implementation reads.
 * One process at a time (see open.ts). The bulk paths run here, row by row, what the
 * native implementation runs in Rust.
 */
export function openJsDriver(path: string, options: DriverOptions): SqlDriver {
  const readOnly = options.readOnly ? openReadOnlyDatabase(path) : undefined;
  const conn = new Connection(readOnly?.db ?? openDatabase(path, options));
  return {
    implementation: 'js',
    dialect: SQLITE_DIALECT,
    checksVectors: false,
    ...(readOnly ? { readOnlyAccess: readOnly.access } : {}),
    changeToken: () => Number((conn.query(CHANGE_TOKEN_SQL)[0] as SqlRow).token),
    query: (sql, params) => conn.query(sql, params),
    run: (sql, params) => conn.run(sql, params),
    exec: (sql) => conn.exec(sql),
    begin: () => conn.exec(SQLITE_DIALECT.begin),
    commit: () => conn.exec('COMMIT'),
    rollback: () => conn.exec('ROLLBACK'),
    runBatch: (sql, rows) => runBatch(conn, sql, rows),
    putFragments: (b) => putFragments(conn, b),
    listFragments: (after, limit, namespace, withVectors) =>
      listFragments(conn, after, limit, namespace, withVectors),
    scanFragments: (withVectors, visit) => scanFragments(conn, withVectors, visit),
    getFragments: (ids, withVectors) => getFragments(conn, ids, withVectors),
    recordFragmentUses: (ids, counts, ats) => recordFragmentUses(conn, ids, counts, ats),
    addMessages: (b) => addMessages(conn, b),
    addEvents: (b) => addEvents(conn, b),
    async analytics(name, args) {
      const sql = ANALYTICS_SQL[name];
      return conn.query(sql, analyticsParams(sql, args));
    },
    integrityCheck: () =>
      conn
        .query('PRAGMA integrity_check')
        .map((r) => String(r.integrity_check))
        .join('\n'),
    schemaVersion: () => Number((conn.query('PRAGMA user_version')[0] as SqlRow).user_version),
    settleStatements: () => conn.settleStatements(),
    close: () => {
      try {
        conn.close();
      } finally {
        // The VFS's calls for its files go to `fs` again once the connection is closed.
        readOnly?.release();
      }
    },
  };
}
