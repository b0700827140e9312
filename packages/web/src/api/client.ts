import createClient, { type Middleware } from 'openapi-fetch';
import { sessionKey, setSessionKey } from '../session';
import { ApiError, apiErrorOf } from './errors';
import type { paths } from './schema.gen';

export { ApiError } from './errors';

/** Every request carries the session's key; a 401 ends the session (revoked, expired). */
const auth: Middleware = {
  onRequest({ request }) {
    const key = sessionKey();
    if (key) request.headers.set('authorization', `Bearer ${key}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && sessionKey() !== null) setSessionKey(null, { refused: true });
    return response;
  },
};

/** The typed client: paths, parameters and bodies come from the server's OpenAPI document. */
export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '' });
api.use(auth);

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a 2xx answer, or an ApiError with the server's code and message. */
export async function ok<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) throw apiErrorOf(response.status, error);
  return data as T;
}

/** Plain fetch with the session's key, for answers the typed client does not read (SSE). */
export function authorizedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = sessionKey();
  if (key) headers.set('authorization', `Bearer ${key}`);
  return fetch(path, { ...init, headers }).then(async (response) => {
    if (response.status === 401 && sessionKey() !== null) setSessionKey(null, { refused: true });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw apiErrorOf(response.status, body);
    }
    return response;
  });
}

export function isApiError(error: unknown, code?: string): error is ApiError {
  return error instanceof ApiError && (code === undefined || error.code === code);
}
