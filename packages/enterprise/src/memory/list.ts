import type { Fragment } from '@aios/carma';
import { type Aios, type FragmentPageQuery, fragmentPage } from '@aios/core';
import { decodeCursor, encodeCursor, invalidCursor } from '../pagination/cursor.js';

export interface ListQuery extends Omit<FragmentPageQuery, 'after'> {
  cursor?: string;
}

const LISTING = 'memory';

/**
 * One page of a tenant's fragments (`fragmentPage`, in id order by keyset), its position
 * carried by an opaque cursor.
 */
export async function listPage(
  system: Aios,
  q: ListQuery,
): Promise<{ items: Fragment[]; nextCursor: string | null }> {
  const { cursor, ...query } = q;
  let after: string | undefined;
  if (cursor !== undefined) {
    const position = decodeCursor(LISTING, cursor);
    if (typeof position.after !== 'string') throw invalidCursor(cursor);
    after = position.after === '' ? undefined : position.after;
  }
  const page = await fragmentPage(system, { ...query, ...(after === undefined ? {} : { after }) });
  return {
    items: page.items,
    nextCursor: page.next === null ? null : encodeCursor(LISTING, { after: page.next }),
  };
}
