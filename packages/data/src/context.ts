import type { SqlDriver } from './driver.js';

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

/** Runs `fn` in one transaction on `driver` (batches inside it become savepoints). */
export function atomically<T>(driver: SqlDriver, fn: () => T): T {
  driver.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    driver.exec('COMMIT');
    return result;
  } catch (error) {
    try {
      driver.exec('ROLLBACK');
    } catch {
      // the original error matters more
    }
    throw error;
  }
}
