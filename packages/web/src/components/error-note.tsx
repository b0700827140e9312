import type { ApiError } from '../api/errors';

/** A failure as the API gave it: its stable code and its message. */
export function ErrorNote({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      <code>{error.code}</code> {error.message}
    </p>
  );
}

/** A 403 explained: what the session's key lacks. */
export function needsScope(error: ApiError | undefined): boolean {
  return error?.code === 'FORBIDDEN';
}
