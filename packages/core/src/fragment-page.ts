import type { Fragment } from '@aios/carma';
import type { Aios } from './aios.js';

/** Which fragments a page lists, and from where. */
export interface FragmentPageQuery {
  /** Fragments per page, at most. */
  limit: number;
  /** The id the page starts after (`next` of the page before); absent: from the first. */
  after?: string;
  namespace?: string;
  /** The file they were ingested from (`metadata.source`). */
  source?: string;
  /** Created at or after (ms). */
  from?: number;
  /** Created before (ms). */
  to?: number;
  minImportance?: number;
  maxImportance?: number;
  /** Rows looked at, at most (default `FRAGMENT_SCAN_LIMIT`). */
  scanLimit?: number;
}

/** Rows read from the store at a time. */
const SCAN_BATCH = 500;
/**
 * Rows looked at per page at most: with a selective filter a page may come back short
 * (even empty) with a `next`, instead of one page scanning the whole memory.
 */
export const FRAGMENT_SCAN_LIMIT = 5_000;

function matches(f: Fragment, q: FragmentPageQuery): boolean {
  if (q.source !== undefined && f.metadata.source !== q.source) return false;
  if (q.from !== undefined && f.createdAt < q.from) return false;
  if (q.to !== undefined && f.createdAt >= q.to) return false;
  if (q.minImportance !== undefined && f.importance < q.minImportance) return false;
  if (q.maxImportance !== undefined && f.importance > q.maxImportance) return false;
  return true;
}

/**
 * One page of the fragments, in id order (the order they were made in), by keyset on the
 * data store's index (`fragments.list` after an id, of one namespace when asked): a page
 * costs what it reads, however large the memory, and every fragment there from the first
 * page to the last is listed exactly once, whatever is added or deleted meanwhile. Each
 * row is shown as CARMA holds it (`memory.get`); the other filters are applied to those.
 * `next` is where the next page starts, null after the last.
 */
export async function fragmentPage(
  system: Pick<Aios, 'memory' | 'data'>,
  q: FragmentPageQuery,
): Promise<{ items: Fragment[]; next: string | null }> {
  let after = q.after ?? '';
  // What other processes changed is taken in once, before reading.
  await system.memory.refresh();
  let refreshed = false;
  const items: Fragment[] = [];
  let scanned = 0;
  const scanLimit = q.scanLimit ?? FRAGMENT_SCAN_LIMIT;
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
        // Written after the refresh above (by this process or another).
        await system.memory.refresh();
        refreshed = true;
        f = await system.memory.get(row.id);
      }
      if (f && matches(f, q)) {
        items.push(f);
        if (items.length === q.limit) return { items, next: after };
      }
    }
    if (rows.length < want) return { items, next: null };
  }
  return { items, next: after };
}
