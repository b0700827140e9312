import { AiosError } from '../errors.js';
import { HttpErrorCode } from './errors.js';

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date; undefined when absent or
 * unreadable (the caller then falls back to its own backoff).
 */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds > 0 ? seconds * 1000 : undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before retry number `attempt + 1`: exponential from `baseMs` with jitter (half
 * to full, so clients that failed together do not retry together), at least the server's
 * `Retry-After`, never more than `maxMs`.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  retryAfterMs = 0,
  random: () => number = Math.random,
): number {
  const exponential = baseMs * 2 ** attempt * (0.5 + random() * 0.5);
  return Math.min(maxMs, Math.max(exponential, retryAfterMs));
}

/** Waits `ms`, or rejects with `HTTP_ABORTED` as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () =>
      new AiosError(HttpErrorCode.HTTP_ABORTED, 'cancelled while waiting to retry', {
        ...(signal?.reason === undefined ? {} : { cause: signal.reason }),
      });
    if (signal?.aborted) return reject(aborted());
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
