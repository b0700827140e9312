/** An answer of the API that is not 2xx, in its one error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ErrorShape {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

/** Reads the `{ error: { code, message, details } }` body of a failed answer. */
export function apiErrorOf(status: number, body: unknown): ApiError {
  const error = (body as ErrorShape | null | undefined)?.error;
  if (error && typeof error.code === 'string') {
    return new ApiError(
      status,
      error.code,
      typeof error.message === 'string' ? error.message : error.code,
      (error.details as Record<string, unknown> | undefined) ?? {},
    );
  }
  return new ApiError(status, `HTTP_${status}`, `the server answered ${status}`);
}

/** A failure of any kind as an ApiError (a network failure has the code NETWORK_ERROR). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(0, 'NETWORK_ERROR', `the server could not be reached: ${message}`);
}
