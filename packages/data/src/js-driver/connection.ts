import type { Statement, Database as WasmDatabase } from 'node-sqlite3-wasm';
import type { SqlRow, SqlValue } from '../driver.js';
import { DataErrorCode, dataError } from '../errors.js';
import { StatementCache, sqliteError } from './statements.js';

/**
 * SQL on the one connection of the js implementation: statements from the cache, every
 * failure an `AiosError`, and refusal once closed. The bulk writes and reads build on it.
 */
export class Connection {
  private readonly statements: StatementCache;
  private closed = false;

  constructor(private readonly db: WasmDatabase) {
    this.statements = new StatementCache(db);
  }

  ensureOpen(): void {
    if (this.closed) throw dataError(DataErrorCode.DATA_CLOSED, 'the store is closed');
  }

  /** The cached statement for `sql`, for callers that step it themselves (the bulk paths). */
  prepare(sql: string): Statement {
    return this.statements.prepare(sql);
  }

  query(sql: string, params?: readonly SqlValue[]): SqlRow[] {
    this.ensureOpen();
    try {
      return this.prepare(sql).all(params as SqlValue[]) as SqlRow[];
    } catch (error) {
      this.statements.drop();
      throw sqliteError(error);
    }
  }

  /** The rows of `sql` one at a time (one statement, so one snapshot): for long reads. */
  *iterate(sql: string, params?: readonly SqlValue[]): Generator<SqlRow> {
    this.ensureOpen();
    try {
      yield* this.prepare(sql).iterate(params as SqlValue[]) as Iterable<SqlRow>;
    } catch (error) {
      this.statements.drop();
      throw sqliteError(error);
    }
  }

  run(sql: string, params?: readonly SqlValue[]): { changes: number; lastInsertRowid: number } {
    this.ensureOpen();
    try {
      const r = this.prepare(sql).run(params as SqlValue[]);
      return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
    } catch (error) {
      this.statements.drop();
      throw sqliteError(error);
    }
  }

  exec(sql: string): void {
    this.ensureOpen();
    try {
      this.db.exec(sql);
    } catch (error) {
      throw sqliteError(error);
    }
  }

  /**
   * Runs `fn` in a transaction, or in a savepoint inside the one already open. On error
   * it rolls back and rethrows what `fn` threw.
   */
  transaction<T>(fn: () => T): T {
    const nested = this.db.inTransaction;
    this.exec(nested ? 'SAVEPOINT aios_batch' : 'BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.exec(nested ? 'RELEASE aios_batch' : 'COMMIT');
      return result;
    } catch (error) {
      this.statements.drop();
      try {
        this.db.exec(nested ? 'ROLLBACK TO aios_batch; RELEASE aios_batch' : 'ROLLBACK');
      } catch {
        // the original error matters more
      }
      throw error;
    }
  }

  /** Finalizes the cached statements (a read stepped once stays in progress until reset). */
  settleStatements(): void {
    this.ensureOpen();
    this.statements.drop();
  }

  /** Closes the database; later calls fail with `DATA_CLOSED`, a second close does nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.statements.drop();
      if (this.db.isOpen) this.db.close();
    } catch (error) {
      throw sqliteError(error);
    }
  }
}
