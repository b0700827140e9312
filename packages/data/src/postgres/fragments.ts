import type { SqlRow } from '../driver.js';
import type { StoredFragment } from '../types.js';
import { parseJson } from '../validate.js';
import type { PgConnection } from './connection.js';

function columns(withVectors: boolean): string {
  return `id, namespace, text, metadata, attributes, ${withVectors ? 'vector' : 'NULL::bytea AS vector'},
    created_at, updated_at, use_count, last_used_at`;
}

export function toFragment(r: SqlRow): StoredFragment {
  const v = r.vector as Uint8Array | null;
  return {
    id: String(r.id),
    namespace: String(r.namespace),
    text: String(r.text),
    metadata: parseJson(r.metadata),
    attributes: parseJson(r.attributes),
    // The bytes are a buffer of their own (see parseBytea): a view, no copy.
    vector: v === null ? null : new Float32Array(v.buffer, v.byteOffset, v.byteLength >>> 2),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    useCount: Number(r.use_count),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  };
}

/** Every fragment, in storage order: one statement, so one snapshot. */
export async function scanFragments(
  conn: PgConnection,
  withVectors: boolean,
  visit: (page: StoredFragment[]) => void,
): Promise<void> {
  const { rows } = await conn.query<SqlRow>(`SELECT ${columns(withVectors)} FROM fragments`);
  visit(rows.map(toFragment));
}

/** Fragments by id in the order asked (an id asked twice comes twice), unknown ids skipped. */
export async function getFragments(
  conn: PgConnection,
  ids: readonly string[],
  withVectors: boolean,
): Promise<StoredFragment[]> {
  if (ids.length === 1) {
    const { rows } = await conn.query<SqlRow>(
      `SELECT ${columns(withVectors)} FROM fragments WHERE id = ?1`,
      ids,
    );
    return rows.map(toFragment);
  }
  if (ids.length === 0) return [];
  const { rows } = await conn.query<SqlRow>(
    `SELECT ${columns(withVectors)} FROM fragments WHERE id = ANY(?1::text[])`,
    [ids],
  );
  const byId = new Map<string, StoredFragment>();
  for (const row of rows) byId.set(String(row.id), toFragment(row));
  const out: StoredFragment[] = [];
  for (const id of ids) {
    const found = byId.get(id);
    if (found) out.push(found);
  }
  return out;
}

/** Up to `limit` fragments with ids after `after` (of `namespace` when given), by id. */
export async function listFragments(
  conn: PgConnection,
  after: string,
  limit: number,
  namespace: string | null,
  withVectors: boolean,
): Promise<StoredFragment[]> {
  const { rows } =
    namespace === null
      ? await conn.query<SqlRow>(
          `SELECT ${columns(withVectors)} FROM fragments WHERE id > ?1 ORDER BY id LIMIT ?2`,
          [after, limit],
        )
      : await conn.query<SqlRow>(
          `SELECT ${columns(withVectors)} FROM fragments WHERE namespace = ?3 AND id > ?1 ORDER BY id LIMIT ?2`,
          [after, limit, namespace],
        );
  return rows.map(toFragment);
}
