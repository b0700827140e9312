import type { Fragment } from '@aios/carma';
import type { Aios } from '@aios/core';
import { decodeCursor, encodeCursor, invalidCursor } from '../pagination/cursor.js';

export interface ListQuery {
  limit: number;
  cursor?: string;
  namespace?: string;
  source?: string;
  /** Created at or after (ms). */
  from?: number;
  /** Created before (ms). */
  to?: number;
  minImportance?: number;
  maxImportance?: number;
  /** Rows looked at, at most (default `SCAN_LIMIT`). */
  scanLimit?: number;
}

const LISTING = 'memory';
/** Rows read from the store at a time. */
const SCAN_BATCH = 500;
/**
 * Rows looked at per request at most: with a selective filter a page may come back short
 * (even empty) with a cursor, instead of one request scanning the whole memory.
 */
export const SCAN_LIMIT = 5_000;

function matches(f: Fragment, q: ListQuery): boolean {
  if (q.source !== undefined && f.metadata.source !== q.source) return false;
  if (q.from !== undefined && f.createdAt < q.from) return false;
  if (q.to !== undefined && f.createdAt >= q.to) return false;
  if (q.minImportance !== undefined && f.importance < q.minImportance) return false;
  if (q.maxImportance !== undefined && f.importance > q.maxImportance) return false;
  return true;
}

/**
 * One page of a tenant's fragments, in id order, by keyset on the data store's index
 * (`fragments.list` after an id, of one namespace when asked): a page costs what it reads,
 * however large the memory, and every fragment there from the first page to the last is
 * listed exactly once, whatever is added or deleted meanwhile. Each row is shown as CARMA
 * holds it (`memory.get`); the other filters are applied to those.
 */
export async function listPage(
  system: Aios,
  q: ListQuery,
): Promise<{ items: Fragment[]; nextCursor: string | null }> {
  let after = '';
  if (q.cursor !== undefined) {
    const position = decodeCursor(LISTING, q.cursor);
    if (typeof position.after !== 'string') throw invalidCursor(q.cursor);
    after = position.after;
  }
  // What other processes (the CLI) changed is taken in once, before reading.
  await system.memory.refresh();
  let refreshed = false;
  const items: Fragment[] = [];
  let scanned = 0;
  const scanLimit = q.scanLimit ?? SCAN_LIMIT;
  while (scanned < scanLimit) {
    const want = Math.min(SCAN_BATCH, scanLimit - scanned);
    const rows = await system.data.fragments.list({
      ...(after === '' ? {} : { after }),
      limit: want,
      vectors: false,
      ...(q.namespace === undefined ? {} : { namespace: q.namespace }),
    });
    for (const row of rows) {
      scanned++;
      after = row.id;
      let f = await system.memory.get(row.id);
      if (!f && !refreshed) {
        // Written after the refresh above (by this server or another process).
        await system.memory.refresh();
        refreshed = true;
        f = await system.memory.get(row.id);
      }
      if (f && matches(f, q)) {
        items.push(f);
        if (items.length === q.limit)
          return { items, nextCursor: encodeCursor(LISTING, { after }) };
      }
    }
    if (rows.length < want) return { items, nextCursor: null };
  }
  return { items, nextCursor: encodeCursor(LISTING, { after }) };
}
