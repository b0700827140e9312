import { type Awaitable, drive, type Steps } from './awaitable.js';
import type { Dialect, WriteLock } from './dialect.js';
import type { SqlDriver } from './driver.js';
import { inTransaction } from './transaction.js';

/** What the repositories of one store share: its connection, its queue and its limits. */
export interface StoreContext {
  readonly driver: SqlDriver;
  /** The statements that differ between databases (`driver.dialect`). */
  readonly sql: Dialect;
  /** Runs `fn` after every earlier call of the store has finished. */
  serial<T>(fn: () => T | Promise<T>): Promise<T>;
  /**
   * `serial` for work written as steps (`yield driver.query(...)`): on SQLite it runs at
   * once, synchronously, like the driver; on PostgreSQL, step by step.
   */
  steps<T>(body: () => Steps<T>): Promise<T>;
  /** Whether calls are queued or running (then a batch cannot borrow shared buffers). */
  busy(): boolean;
  readonly maxRowBytes: number;
  /** The vector dimension recorded in the store, as last read or written. */
  dimension: number | undefined;
  /** Reads the recorded dimension from the database. */
  readDimension(): Awaitable<number | undefined>;
}

/**
 * Runs `body` in one transaction on `driver` (batches inside it become savepoints), or in
 * a savepoint of the `store.transaction` it is part of. `lock` is taken first (see
 * `WriteLock`): before anything else is written, so that two writers never wait for each
 * other's rows in opposite orders. On SQLite it all runs synchronously (see `drive`).
 */
export function atomically<T>(
  driver: SqlDriver,
  body: () => Steps<T>,
  lock?: WriteLock,
): Awaitable<T> {
  return drive(atomicSteps(driver, body, lock));
}

function* atomicSteps<T>(driver: SqlDriver, body: () => Steps<T>, lock?: WriteLock): Steps<T> {
  const nested = inTransaction(driver);
  yield nested ? driver.exec('SAVEPOINT aios_atomic') : driver.begin();
  try {
    const locking = lock === undefined ? null : driver.dialect.lock(lock);
    if (locking !== null) yield driver.query(locking);
    const result: T = yield* body();
    yield nested ? driver.exec('RELEASE aios_atomic') : driver.commit();
    return result;
  } catch (error) {
    try {
      yield nested
        ? driver.exec('ROLLBACK TO aios_atomic; RELEASE aios_atomic')
        : driver.rollback();
    } catch {
      // the original error matters more
    }
    throw error;
  }
}
