import { AiosError } from '@aios/utils';
import type { Statement, Database as WasmDatabase } from 'node-sqlite3-wasm';
import { DataErrorCode, dataError } from '../errors.js';

/** Maps an SQLite error message (the wasm build reports no numeric code) to our codes. */
export function sqliteError(error: unknown, context?: string): AiosError {
  if (error instanceof AiosError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = /constraint failed/i.test(message)
    ? DataErrorCode.DATA_CONSTRAINT
    : /file is not a database/i.test(message)
      ? DataErrorCode.DATA_NOT_A_DATABASE
      : /malformed|corrupt/i.test(message)
        ? DataErrorCode.DATA_CORRUPT
        : /locked|busy/i.test(message)
          ? DataErrorCode.DATA_BUSY
          : /too big|too large/i.test(message)
            ? DataErrorCode.DATA_ROW_TOO_LARGE
            : /readonly/i.test(message)
              ? 'DATA_READ_ONLY'
              : /unable to open/i.test(message)
                ? 'DATA_CANNOT_OPEN'
                : DataErrorCode.DATA_SQLITE;
  return dataError(code, context ? `${context}: ${message}` : message, { cause: error });
}

/** The error of row `i` of a batch: its code, with the row named in the message. */
export function rowError(i: number, error: unknown): AiosError {
  const e = sqliteError(error);
  return dataError(e.code, `row ${i}: ${e.message}`, { cause: error });
}

/** Prepared statements by SQL text, kept for the life of the connection. */
export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: WasmDatabase) {}

  prepare(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /**
   * Finalizes every statement. A statement whose step failed keeps failing on reset in
   * this SQLite build: after any error the cache is dropped, so the next call prepares
   * afresh.
   */
  drop(): void {
    for (const stmt of this.statements.values()) {
      try {
        stmt.finalize();
      } catch {
        // finalize repeats the statement's last error, already reported to its caller
      }
    }
    this.statements.clear();
  }
}
