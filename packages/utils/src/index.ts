import packageJson from '../package.json' with { type: 'json' };
import { loadUtilsBinding } from './binding.js';
import type { ImplementationReport, NativeMode } from './native/index.js';

export * from './async/index.js';
export * from './collections/index.js';
export * from './config/index.js';
export * from './errors.js';
export * from './fs/index.js';
export {
  type BinaryLike,
  type ContentHasher,
  contentId,
  createHashing,
  defaultHashing,
  type Hashing,
  type HashingOptions,
  hashFile,
} from './hash/index.js';
export {
  backoffDelay,
  HttpErrorCode,
  type HttpRequestOptions,
  HttpResponse,
  httpRequest,
  isRetryableHttpError,
  parseRetryAfter,
  parseSse,
  type RetryOptions,
  withRetries,
} from './http/index.js';
export { timeOrderedUuid } from './ids/time-ordered.js';
export * from './lock/index.js';
export { type CreateLoggerOptions, createLogger, type Logger } from './logger.js';
export * from './native/index.js';
export * from './process/index.js';
export {
  hasUnspaced,
  isUnspaced,
  pushUnspacedTerms,
  searchTerms,
  termRuns,
  unspacedTerms,
} from './text/unspaced.js';
export * from './validate/index.js';

export const VERSION: string = packageJson.version;

/** Which implementation @aios/utils runs in this process, and why. */
export function implementation(mode?: NativeMode): ImplementationReport {
  return loadUtilsBinding(mode).report;
}
