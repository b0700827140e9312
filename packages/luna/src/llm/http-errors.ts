import { AiosError, HttpErrorCode } from '@aios/utils';
import { LunaErrorCode } from '../errors.js';

/**
 * Luna's codes for the HTTP helper's: callers switch on `LLM_*` and `LUNA_ABORTED`, which
 * name what went wrong with the model server (rate limited, server error...) rather than
 * with HTTP. Errors that are already Luna's pass through.
 */
export function toLunaError(error: unknown, during: 'connect' | 'stream' = 'connect'): AiosError {
  if (!(error instanceof AiosError)) {
    return new AiosError(LunaErrorCode.LLM_BAD_RESPONSE, String(error), { cause: error });
  }
  const code = lunaCode(error, during);
  if (code === undefined) return error;
  return new AiosError(
    code,
    code === LunaErrorCode.ABORTED ? 'the request was cancelled' : error.message,
    { details: { ...error.details }, cause: error.cause ?? error },
  );
}

function lunaCode(error: AiosError, during: 'connect' | 'stream'): string | undefined {
  switch (error.code) {
    case HttpErrorCode.HTTP_ABORTED:
      return LunaErrorCode.ABORTED;
    case HttpErrorCode.HTTP_TIMEOUT:
      return LunaErrorCode.LLM_TIMEOUT;
    case HttpErrorCode.HTTP_NETWORK:
      return LunaErrorCode.LLM_UNREACHABLE;
    case HttpErrorCode.HTTP_BODY_INTERRUPTED:
      // A whole (non-streamed) reply that broke off counts as the server being unreachable.
      return during === 'stream'
        ? LunaErrorCode.LLM_STREAM_INTERRUPTED
        : LunaErrorCode.LLM_UNREACHABLE;
    case HttpErrorCode.HTTP_STATUS: {
      const status = error.details?.status;
      if (status === 429) return LunaErrorCode.LLM_RATE_LIMITED;
      if (typeof status === 'number' && status >= 500) return LunaErrorCode.LLM_SERVER_ERROR;
      return LunaErrorCode.LLM_HTTP_ERROR;
    }
    default:
      return undefined;
  }
}
