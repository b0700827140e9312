import type { SqlRow } from '../driver.js';
import { DataErrorCode, dataError } from '../errors.js';
import type { StoredFragment } from '../types.js';
import { parseJson } from '../validate.js';
import type { Connection } from './connection.js';
import { sqliteError } from './statements.js';

function columns(withVectors: boolean): string {
  return `id, namespace, text, metadata, attributes, ${withVectors ? 'vector' : 'NULL AS vector'},
             created_at, updated_at, use_count, last_used_at`;
}

/** Up to `limit` fragments with ids after `after` (of `namespace` when given), by id. */
export function listFragments(
  conn: Connection,
  after: string,
  limit: number,
  namespace: string | null,
  withVectors: boolean,
): StoredFragment[] {
  const rows =
    namespace === null
      ? conn.query(
          `SELECT ${columns(withVectors)} FROM fragments WHERE id > ?1 ORDER BY id LIMIT ?2`,
          [after, limit],
        )
      : conn.query(
          `SELECT ${columns(withVectors)} FROM fragments WHERE namespace = ?3 AND id > ?1 ORDER BY id LIMIT ?2`,
          [after, limit, namespace],
        );
  return rows.map(toFragment);
}

/** Fragments per page of a scan. */
const SCAN_PAGE = 2000;

/** Every fragment, in storage order: one statement, so one snapshot. */
export function scanFragments(
  conn: Connection,
  withVectors: boolean,
  visit: (page: StoredFragment[]) => void,
): void {
  let page: StoredFragment[] = [];
  for (const row of conn.iterate(`SELECT ${columns(withVectors)} FROM fragments`)) {
    page.push(toFragment(row));
    if (page.length === SCAN_PAGE) {
      visit(page);
      page = [];
    }
  }
  if (page.length > 0) visit(page);
}

/** Fragments by id in the order asked, unknown ids skipped. */
export function getFragments(
  conn: Connection,
  ids: readonly string[],
  withVectors: boolean,
): StoredFragment[] {
  conn.ensureOpen();
  const stmt = conn.prepare(`SELECT ${columns(withVectors)}
             FROM fragments WHERE id = ?1`);
  const out: StoredFragment[] = [];
  for (const id of ids) {
    let row: SqlRow | undefined;
    try {
      // `all`, not `get`: `get` leaves the statement stepping after its row, and an active
      // statement makes VACUUM INTO (snapshots) and compaction fail until it is reused.
      row = (stmt.all([id]) as SqlRow[])[0];
    } catch (error) {
      throw sqliteError(error);
    }
    if (!row) continue;
    out.push(toFragment(row));
  }
  return out;
}

function toFragment(row: SqlRow): StoredFragment {
  return {
    id: row.id as string,
    namespace: row.namespace as string,
    text: row.text as string,
    metadata: parseJson(row.metadata),
    attributes: parseJson(row.attributes),
    vector: row.vector === null ? null : blobToVector(row.vector as Uint8Array),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    useCount: Number(row.use_count),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/** A Float32Array over a blob's bytes: a view when aligned, else one copy. */
function blobToVector(blob: Uint8Array): Float32Array {
  if (blob.byteLength % 4 !== 0) {
    throw dataError(
      DataErrorCode.DATA_CORRUPT,
      `vector blob of ${blob.byteLength} bytes is not a float32 array`,
    );
  }
  if (blob.byteOffset % 4 === 0) {
    return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  }
  return new Float32Array(blob.slice().buffer);
}
