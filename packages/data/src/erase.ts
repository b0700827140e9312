/**
 * Erasure: a namespace's fragments, vectors, history and source records removed for good,
 * and the database file compacted so that no freed page still holds their bytes.
 */
import { atomically } from './context.js';
import type { SqlDriver } from './driver.js';
import type { CompactResult, NamespaceErasure } from './types.js';

/** The history row left for each erased fragment: no data, only that it is gone. */
export const ERASE_CHANGE_KIND = 'erase';

const column = (driver: SqlDriver, sql: string, params: readonly (string | number)[]) =>
  driver.query(sql, params).map((r) => String(Object.values(r)[0]));

/**
 * Removes in one transaction, with SQLite's secure delete on (freed bytes are zeroed):
 * the namespace's fragments (their vectors are in their rows), the history of every
 * fragment that was ever in it (those there now, those its source records name, those
 * whose history rows record the namespace, and the `ids` the caller knows of, such as
 * fragments merged into them), and its source records. A fragment now in another
 * namespace keeps its history. Each erased fragment gets one history row of kind `erase`
 * without data, so that other processes following the history drop it too.
 */
export function eraseNamespaceRows(
  driver: SqlDriver,
  namespace: string,
  ids: readonly string[],
  at: number,
): NamespaceErasure {
  driver.exec('PRAGMA secure_delete = ON');
  try {
    return atomically(driver, () => {
      const present = driver.query(
        'SELECT id, created_at, vector IS NOT NULL AS has_vector FROM fragments WHERE namespace = ?1',
        [namespace],
      );
      const presentIds = new Set(present.map((r) => String(r.id)));
      const candidates = new Set<string>([
        ...presentIds,
        ...column(driver, 'SELECT DISTINCT fragment_id FROM source_pieces WHERE namespace = ?1', [
          namespace,
        ]),
        ...column(
          driver,
          "SELECT DISTINCT fragment_id FROM fragment_changes WHERE kind != 'erase' AND json_valid(data) AND json_extract(data, '$.namespace') = ?1",
          [namespace],
        ),
        ...ids,
      ]);
      let since: number | null = null;
      const earliest = (t: unknown) => {
        if (typeof t === 'number' || typeof t === 'bigint') {
          const ms = Number(t);
          since = since === null ? ms : Math.min(since, ms);
        }
      };
      for (const r of present) earliest(r.created_at);
      const erased: string[] = [];
      let history = 0;
      for (const id of candidates) {
        const elsewhere = driver.query(
          'SELECT 1 FROM fragments WHERE id = ?1 AND namespace != ?2',
          [id, namespace],
        );
        if (elsewhere.length > 0) continue;
        const rows = driver.query(
          "SELECT count(*) AS n, min(created_at) AS t FROM fragment_changes WHERE fragment_id = ?1 AND kind != 'erase'",
          [id],
        )[0];
        const n = Number(rows?.n ?? 0);
        if (n === 0 && !presentIds.has(id)) continue;
        earliest(rows?.t);
        history += driver.run('DELETE FROM fragment_changes WHERE fragment_id = ?1', [id]).changes;
        driver.run(
          'INSERT INTO fragment_changes (fragment_id, kind, data, created_at) VALUES (?1, ?2, NULL, ?3)',
          [id, ERASE_CHANGE_KIND, at],
        );
        erased.push(id);
      }
      const fragments = driver.run('DELETE FROM fragments WHERE namespace = ?1', [
        namespace,
      ]).changes;
      const sourcePieces = driver.run('DELETE FROM source_pieces WHERE namespace = ?1', [
        namespace,
      ]).changes;
      const sources = driver.run('DELETE FROM sources WHERE namespace = ?1', [namespace]).changes;
      return {
        namespace,
        fragments,
        vectors: present.filter((r) => Number(r.has_vector) === 1).length,
        history,
        sources,
        sourcePieces,
        ids: erased,
        since,
      };
    });
  } finally {
    driver.exec('PRAGMA secure_delete = OFF');
  }
}

/**
 * Rewrites the database without free pages (`VACUUM`), then copies the write-ahead log
 * into it and truncates the log to nothing (`wal_checkpoint(TRUNCATE)`): afterwards no byte
 * of a deleted row is left in the file or its log. A reader in another process can keep
 * the checkpoint from finishing; `checkpointed` says whether it did.
 */
export function compactDatabase(driver: SqlDriver): CompactResult {
  const pages = (name: string) => Number(driver.query(`PRAGMA ${name}`)[0]?.[name] ?? 0);
  const before = pages('page_count');
  driver.settleStatements();
  driver.exec('VACUUM');
  const checkpoint = driver.query('PRAGMA wal_checkpoint(TRUNCATE)')[0] ?? {};
  return {
    pagesBefore: before,
    pagesAfter: pages('page_count'),
    checkpointed: Number(checkpoint.busy ?? 1) === 0,
  };
}
