import { fromNativeError } from '../errors.js';

/**
 * Runs a call into a native binding and reports its failure as an `AiosError` (the
 * binding's `[AIOS:<CODE>] message` becomes that code, anything else `NATIVE_FAILURE`; see
 * `fromNativeError`). A synchronous failure is thrown; a returned promise is returned with
 * its rejection translated the same way. Inside an `async` function both end up as a
 * rejection, which is what callers of async methods expect.
 */
export function callNative<T>(fn: () => T): T {
  let result: T;
  try {
    result = fn();
  } catch (error) {
    throw fromNativeError(error);
  }
  if (result instanceof Promise) {
    return result.catch((error: unknown) => {
      throw fromNativeError(error);
    }) as T;
  }
  return result;
}
