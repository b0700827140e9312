import { AiosError } from '../errors.js';

/** Codes of the HTTP helper; callers may map them onto their own. */
export const HttpErrorCode = {
  /** No answer (or, while a body is read, no bytes) within the timeout. */
  HTTP_TIMEOUT: 'HTTP_TIMEOUT',
  /** A status other than 2xx; `details.status` holds it, `details.retryAfterMs` any `Retry-After`. */
  HTTP_STATUS: 'HTTP_STATUS',
  /** The connection could not be made or broke before the response headers. */
  HTTP_NETWORK: 'HTTP_NETWORK',
  /** The body broke off after the response had started. */
  HTTP_BODY_INTERRUPTED: 'HTTP_BODY_INTERRUPTED',
  /** The caller's AbortSignal fired. */
  HTTP_ABORTED: 'HTTP_ABORTED',
} as const;

/** Network errors, timeouts, 429 and 5xx are worth another attempt; nothing else is. */
export function isRetryableHttpError(error: unknown): boolean {
  if (!(error instanceof AiosError)) return false;
  if (error.code === HttpErrorCode.HTTP_NETWORK || error.code === HttpErrorCode.HTTP_TIMEOUT) {
    return true;
  }
  if (error.code !== HttpErrorCode.HTTP_STATUS) return false;
  const status = error.details?.status;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

export function httpAborted(url: string, signal: AbortSignal | undefined): AiosError {
  return new AiosError(HttpErrorCode.HTTP_ABORTED, `${url}: the request was cancelled`, {
    details: { url },
    ...(signal?.reason === undefined ? {} : { cause: signal.reason }),
  });
}
