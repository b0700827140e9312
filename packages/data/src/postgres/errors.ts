import { AiosError } from '@aios/utils';
import { DataErrorCode, dataError } from '../errors.js';

/** What node-postgres errors carry: the server's SQLSTATE, or the socket's errno code. */
interface PgLikeError {
  code?: string;
  message?: string;
  detail?: string;
}

/**
 * node-postgres's own words, without a code, when the server stops answering: no answer to
 * a connection within the timeout, the connection ending under a statement, or no answer
 * to a statement within `query_timeout`.
 */
const LOST = /^(timeout expired|Connection terminated unexpectedly|Query read timeout)$/;

/** The store's code for a SQLSTATE (server errors) or a socket error code. */
function codeOf(code: string | undefined, message: string): string {
  if (code === undefined) {
    return LOST.test(message) ? DataErrorCode.DATA_UNREACHABLE : DataErrorCode.DATA_POSTGRES;
  }
  if (code.startsWith('23')) return DataErrorCode.DATA_CONSTRAINT;
  if (code === '28P01' || code === '28000') return DataErrorCode.DATA_AUTH_FAILED;
  if (code === '3D000') return DataErrorCode.DATA_DATABASE_MISSING;
  if (code === '25P02') return DataErrorCode.DATA_TRANSACTION_ABORTED;
  // A deadlock or a serialization failure: the other writer went first, try again.
  if (code === '40P01' || code === '40001' || code === '55P03') return DataErrorCode.DATA_BUSY;
  if (code === '54000') return DataErrorCode.DATA_ROW_TOO_LARGE;
  if (code === '22P02' || code === '22021') return 'INVALID_INPUT';
  // Connection failures: SQLSTATE class 08, 57P01-57P03 (shut down), and socket errors.
  if (code.startsWith('08') || /^57P0[123]$/.test(code) || /^E[A-Z]+$/.test(code)) {
    return DataErrorCode.DATA_UNREACHABLE;
  }
  return DataErrorCode.DATA_POSTGRES;
}

/**
 * A PostgreSQL or connection failure as an `AiosError` with the store's codes. `where`
 * names the server (its URL without the password, never with it) or the statement.
 */
export function pgError(error: unknown, where?: string): AiosError {
  if (error instanceof AiosError) return error;
  const e = (error ?? {}) as PgLikeError;
  // node-postgres's own words when the server asks for a password and none was given.
  const code = /password must be a string/.test(e.message ?? '')
    ? DataErrorCode.DATA_AUTH_FAILED
    : codeOf(e.code, e.message ?? '');
  let message = e.message || String(error);
  if (code === DataErrorCode.DATA_TRANSACTION_ABORTED) {
    message =
      'an earlier statement of this transaction failed: on PostgreSQL the transaction can only roll back';
  }
  if (e.detail) message += ` (${e.detail})`;
  return dataError(code, where ? `${where}: ${message}` : message, {
    cause: error,
    details: e.code ? { sqlstate: e.code } : undefined,
  });
}
