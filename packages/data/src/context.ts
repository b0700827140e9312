import type { SqlDriver } from './driver.js';
import { inTransaction } from './transaction.js';

/** What the repositories of one store share: its connection, its queue and its limits. */
export interface StoreContext {
  readonly driver: SqlDriver;
  /** Runs `fn` after every earlier call of the store has finished. */
  serial<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Whether calls are queued or running (then a batch cannot borrow shared buffers). */
  busy(): boolean;
  readonly maxRowBytes: number;
  /** The vector dimension recorded in the store, as last read or written. */
  dimension: number | undefined;
  /** Reads the recorded dimension from the database. */
  readDimension(): number | undefined;
}

/**
 * Runs `fn` in one transaction on `driver` (batches inside it become savepoints), or in a
 * savepoint of the `store.transaction` it is part of.
 */
export function atomically<T>(driver: SqlDriver, fn: () => T): T {
  const nested = inTransaction(driver);
  driver.exec(nested ? 'SAVEPOINT aios_atomic' : 'BEGIN IMMEDIATE');
  try {
    const result = fn();
    driver.exec(nested ? 'RELEASE aios_atomic' : 'COMMIT');
    return result;
  } catch (error) {
    try {
      driver.exec(nested ? 'ROLLBACK TO aios_atomic; RELEASE aios_atomic' : 'ROLLBACK');
    } catch {
      // the original error matters more
    }
    throw error;
  }
}
