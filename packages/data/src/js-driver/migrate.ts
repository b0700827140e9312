import type { Database as WasmDatabase } from 'node-sqlite3-wasm';
import type { SqlRow } from '../driver.js';
import { dataError } from '../errors.js';
import { APPLICATION_ID, MIGRATIONS } from '../sql.js';
import { sqliteError } from './statements.js';

function userVersion(db: WasmDatabase): number {
  return Number((db.get('PRAGMA user_version') as SqlRow).user_version);
}

/**
 * Applies the migrations newer than the database's `user_version`, each in its own
 * transaction. The version is read again inside each one, so a step another connection
 * applied meanwhile is not applied twice.
 */
export function migrate(db: WasmDatabase): void {
  const start = userVersion(db);
  for (const m of MIGRATIONS) {
    if (m.version <= start) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      if (userVersion(db) < m.version) {
        db.exec(m.sql);
        db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          m.version,
          m.name,
          Date.now(),
        ]);
        db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${m.version};`);
      }
      db.exec('COMMIT');
    } catch (error) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // keep the migration error
      }
      const e = sqliteError(error);
      throw dataError(e.code, `migration ${m.version} (${m.name}) failed: ${e.message}`, {
        cause: error,
      });
    }
  }
}
