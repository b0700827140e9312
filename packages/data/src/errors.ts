import { AiosError, type AiosErrorOptions } from '@aios/utils';

/** Error codes of @aios/data (on top of the shared ones such as `INVALID_INPUT`). */
export const DataErrorCode = {
  /** The file at the database path is not an SQLite database; it was left untouched. */
  DATA_NOT_A_DATABASE: 'DATA_NOT_A_DATABASE',
  /** The database file is damaged. */
  DATA_CORRUPT: 'DATA_CORRUPT',
  /** An SQLite database of another application (or without the AIOS schema). */
  DATA_FOREIGN_DATABASE: 'DATA_FOREIGN_DATABASE',
  /** The database was written by a newer @aios/data (its schema version is higher). */
  DATA_SCHEMA_TOO_NEW: 'DATA_SCHEMA_TOO_NEW',
  /** Vectors of a dimension other than the store's. */
  DATA_DIMENSION_MISMATCH: 'DATA_DIMENSION_MISMATCH',
  /** A row larger than `maxRowBytes`. */
  DATA_ROW_TOO_LARGE: 'DATA_ROW_TOO_LARGE',
  /** A write names a fragment the store does not have. */
  DATA_NOT_FOUND: 'DATA_NOT_FOUND',
  /** A uniqueness or reference constraint failed (unknown conversation, duplicate id...). */
  DATA_CONSTRAINT: 'DATA_CONSTRAINT',
  /** Another process holds the database. */
  DATA_BUSY: 'DATA_BUSY',
  /** The store was closed. */
  DATA_CLOSED: 'DATA_CLOSED',
  /**
   * A call that cannot be part of a transaction of the same store (`close`, `importFrom`,
   * `snapshotTo`): it would wait for the transaction it is in to end.
   */
  DATA_IN_TRANSACTION: 'DATA_IN_TRANSACTION',
  /** An export file that cannot be imported. */
  DATA_IMPORT_INVALID: 'DATA_IMPORT_INVALID',
  /** Any other SQLite failure. */
  DATA_SQLITE: 'DATA_SQLITE',
  /** What this database cannot do (`snapshotTo` of a PostgreSQL store...). */
  DATA_NOT_SUPPORTED: 'DATA_NOT_SUPPORTED',
  /** The PostgreSQL server cannot be reached, or the connection to it was lost. */
  DATA_UNREACHABLE: 'DATA_UNREACHABLE',
  /** The PostgreSQL server refused the user or password. */
  DATA_AUTH_FAILED: 'DATA_AUTH_FAILED',
  /** The PostgreSQL database named in the URL does not exist. */
  DATA_DATABASE_MISSING: 'DATA_DATABASE_MISSING',
  /**
   * A statement failed inside a `store.transaction` on PostgreSQL: the transaction can
   * only roll back (the callback's later calls fail with this code).
   */
  DATA_TRANSACTION_ABORTED: 'DATA_TRANSACTION_ABORTED',
  /** Any other PostgreSQL failure. */
  DATA_POSTGRES: 'DATA_POSTGRES',
} as const;

export function dataError(
  code: keyof typeof DataErrorCode | (string & {}),
  message: string,
  options?: AiosErrorOptions,
): AiosError {
  return new AiosError(code, message, options);
}
