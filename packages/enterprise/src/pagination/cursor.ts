import { apiError } from '../http/errors.js';

/**
 * Opaque cursors: the position after the last item of a page, as base64url JSON tagged
 * with the listing it belongs to, so that a cursor of one listing is refused by another
 * (`INVALID_CURSOR`) instead of silently starting somewhere else.
 */
export function encodeCursor(listing: string, position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ l: listing, ...position }), 'utf8').toString('base64url');
}

/** The position of a cursor of `listing`; `INVALID_CURSOR` for anything else. */
export function decodeCursor(listing: string, cursor: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    (parsed as { l?: unknown }).l !== listing
  ) {
    throw invalidCursor(cursor);
  }
  const { l: _listing, ...position } = parsed as Record<string, unknown>;
  return position;
}

export function invalidCursor(cursor: string): Error {
  return apiError(
    'INVALID_CURSOR',
    'cursor: not a cursor of this listing (pass the nextCursor of the page before, unchanged)',
    { cursor: cursor.slice(0, 100) },
  );
}
