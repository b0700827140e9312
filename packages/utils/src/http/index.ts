export { backoffDelay, parseRetryAfter } from './backoff.js';
export { HttpErrorCode, isRetryableHttpError } from './errors.js';
export { type HttpRequestOptions, httpRequest } from './request.js';
export { HttpResponse } from './response.js';
export { type RetryOptions, withRetries } from './retry.js';
export { parseSse } from './sse.js';
