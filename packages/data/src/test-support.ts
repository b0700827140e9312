import { createRequire } from 'node:module';
import type * as Sqlite3Wasm from 'node-sqlite3-wasm';

const { Database } = createRequire(import.meta.url)('node-sqlite3-wasm') as typeof Sqlite3Wasm;

/** Runs SQL on a database file directly, bypassing the store (for tests only). */
export function rawSql(path: string, sql: string): void {
  const db = new Database(path);
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec(sql);
  } finally {
    db.close();
  }
}
