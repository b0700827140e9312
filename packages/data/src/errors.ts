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
} as const;

export function dataError(
  code: keyof typeof DataErrorCode | (string & {}),
  message: string,
  options?: AiosErrorOptions,
): AiosError {
  return new AiosError(code, message, options);
}
