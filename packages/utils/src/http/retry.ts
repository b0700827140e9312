import { backoffDelay, sleep } from './backoff.js';
import { isRetryableHttpError } from './errors.js';

export interface RetryOptions {
  /** Extra attempts after the first. Default 2. */
  retries?: number;
  /** First backoff delay; doubles per retry, with jitter. Default 250 ms. */
  retryBaseMs?: number;
  /** Longest backoff delay, also the cap on `Retry-After`. Default 8 s. */
  retryMaxMs?: number;
  /** Cancels the wait between attempts. */
  signal?: AbortSignal;
  /** Whether an error is worth another attempt. Default `isRetryableHttpError`. */
  retryable?: (error: unknown) => boolean;
}

/** Thrown errors carry how many attempts were made, in `details.attempts` when it has details. */
function noteAttempts(error: unknown, attempts: number): unknown {
  const details = (error as { details?: Record<string, unknown> } | undefined)?.details;
  if (details && typeof details === 'object') details.attempts = attempts;
  return error;
}

/**
 * Runs `run` until it succeeds, an error is not retryable, or the retries are spent,
 * backing off between attempts (honouring a `details.retryAfterMs` on the error).
 * `run` receives the attempt number, from 0.
 */
export async function withRetries<T>(
  run: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<{ value: T; attempts: number }> {
  const retries = options.retries ?? 2;
  const retryable = options.retryable ?? isRetryableHttpError;
  for (let attempt = 0; ; attempt++) {
    try {
      return { value: await run(attempt), attempts: attempt + 1 };
    } catch (error) {
      if (attempt >= retries || !retryable(error)) throw noteAttempts(error, attempt + 1);
      const after = (error as { details?: { retryAfterMs?: unknown } }).details?.retryAfterMs;
      await sleep(
        backoffDelay(
          attempt,
          options.retryBaseMs ?? 250,
          options.retryMaxMs ?? 8_000,
          typeof after === 'number' ? after : 0,
        ),
        options.signal,
      );
    }
  }
}
