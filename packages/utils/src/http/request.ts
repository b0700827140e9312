import { AiosError } from '../errors.js';
import { parseRetryAfter } from './backoff.js';
import { Deadline } from './deadline.js';
import { HttpErrorCode } from './errors.js';
import { HttpResponse } from './response.js';
import { type RetryOptions, withRetries } from './retry.js';

export interface HttpRequestOptions extends Omit<RetryOptions, 'signal'> {
  /** Per attempt; while the body is read, the longest silence between two chunks. */
  timeoutMs: number;
  /** Cancels the request, the waits between attempts and the body. */
  signal?: AbortSignal;
  /** For tests and custom transports. Default: global `fetch` (undici). */
  fetch?: typeof fetch;
}

/** One attempt: fetch, then a non-2xx status becomes `HTTP_STATUS` (its body read and kept short). */
async function attempt(
  url: string,
  init: RequestInit,
  options: HttpRequestOptions,
): Promise<HttpResponse> {
  const deadline = new Deadline(url, options.timeoutMs, options.signal);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { ...init, signal: deadline.controller.signal });
  } catch (error) {
    deadline.done();
    throw deadline.classify(error, 'connect');
  }
  if (response.ok) return new HttpResponse(response, deadline);
  try {
    const body = (await response.text().catch(() => '')).slice(0, 500);
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw new AiosError(
      HttpErrorCode.HTTP_STATUS,
      `${url}: HTTP ${response.status}${body ? `: ${body.slice(0, 200)}` : ''}`,
      {
        details: {
          url,
          status: response.status,
          body,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        },
      },
    );
  } finally {
    deadline.done();
  }
}

/**
 * An HTTP request on Node's built-in fetch with a timeout, the caller's AbortSignal, and
 * retries (exponential backoff with jitter, `Retry-After` honoured up to `retryMaxMs`) after
 * network errors, timeouts, 429 and 5xx. Retries end once a 2xx response is returned: its
 * body is read through the `HttpResponse`, under the same idle timeout, and a failure there
 * (`HTTP_BODY_INTERRUPTED`) is never retried here. Errors are `AiosError`s with `HTTP_*` codes
 * and `details.attempts`.
 */
export async function httpRequest(
  url: string,
  init: RequestInit,
  options: HttpRequestOptions,
): Promise<HttpResponse> {
  const { value, attempts } = await withRetries(() => attempt(url, init, options), options);
  value.attempts = attempts;
  return value;
}
