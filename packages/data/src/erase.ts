/**
 * Erasure: a namespace's fragments, vectors, history and source records removed for good,
 * and the database file compacted so that no freed page still holds their bytes.
 */
import { type Awaitable, drive, type Steps } from './awaitable.js';
import { atomically } from './context.js';
import type { SqlDriver, SqlRow } from './driver.js';
import type { CompactResult, NamespaceErasure } from './types.js';

/** The history row left for each erased fragment: no data, only that it is gone. */
export const ERASE_CHANGE_KIND = 'erase';

const column = (rows: SqlRow[]) => rows.map((r) => String(Object.values(r)[0]));

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
): Awaitable<NamespaceErasure> {
  return drive(eraseSteps(driver, namespace, ids, at));
}

function* eraseSteps(
  driver: SqlDriver,
  namespace: string,
  ids: readonly string[],
  at: number,
): Steps<NamespaceErasure> {
  const secure = driver.dialect.secureDelete;
  if (secure) yield driver.exec(secure.on);
  try {
    const erasure: NamespaceErasure = yield atomically(
      driver,
      () => eraseBody(driver, namespace, ids, at),
      'history',
    );
    return erasure;
  } finally {
    if (secure) yield driver.exec(secure.off);
  }
}

function* eraseBody(
  driver: SqlDriver,
  namespace: string,
  ids: readonly string[],
  at: number,
): Steps<NamespaceErasure> {
  const present: SqlRow[] = yield driver.query(
    'SELECT id, created_at, vector IS NOT NULL AS has_vector FROM fragments WHERE namespace = ?1',
    [namespace],
  );
  const presentIds = new Set(present.map((r) => String(r.id)));
  const pieces: SqlRow[] = yield driver.query(
    'SELECT DISTINCT fragment_id FROM source_pieces WHERE namespace = ?1',
    [namespace],
  );
  const recorded: SqlRow[] = yield driver.query(driver.dialect.historyInNamespace, [namespace]);
  const candidates = new Set<string>([
    ...presentIds,
    ...column(pieces),
    ...column(recorded),
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
    const elsewhere: SqlRow[] = yield driver.query(
      'SELECT 1 FROM fragments WHERE id = ?1 AND namespace != ?2',
      [id, namespace],
    );
    if (elsewhere.length > 0) continue;
    const counted: SqlRow[] = yield driver.query(
      "SELECT count(*) AS n, min(created_at) AS t FROM fragment_changes WHERE fragment_id = ?1 AND kind != 'erase'",
      [id],
    );
    const n = Number(counted[0]?.n ?? 0);
    if (n === 0 && !presentIds.has(id)) continue;
    earliest(counted[0]?.t);
    const removed: Changes = yield driver.run(
      'DELETE FROM fragment_changes WHERE fragment_id = ?1',
      [id],
    );
    history += removed.changes;
    yield driver.run(
      'INSERT INTO fragment_changes (fragment_id, kind, data, created_at) VALUES (?1, ?2, NULL, ?3)',
      [id, ERASE_CHANGE_KIND, at],
    );
    erased.push(id);
  }
  const fragments: Changes = yield driver.run('DELETE FROM fragments WHERE namespace = ?1', [
    namespace,
  ]);
  const sourcePieces: Changes = yield driver.run('DELETE FROM source_pieces WHERE namespace = ?1', [
    namespace,
  ]);
  const sources: Changes = yield driver.run('DELETE FROM sources WHERE namespace = ?1', [
    namespace,
  ]);
  return {
    namespace,
    fragments: fragments.changes,
    vectors: present.filter((r) => Number(r.has_vector) === 1).length,
    history,
    sources: sources.changes,
    sourcePieces: sourcePieces.changes,
    ids: erased,
    since,
  };
}

type Changes = { changes: number };

/**
 * Rewrites the database without free pages (`VACUUM`), then copies the write-ahead log
 * into it and truncates the log to nothing (`wal_checkpoint(TRUNCATE)`): afterwards no byte
 * of a deleted row is left in the file or its log. A reader in another process can keep
 * the checkpoint from finishing; `checkpointed` says whether it did.
 */
export async function compactDatabase(driver: SqlDriver): Promise<CompactResult> {
  const pages = async (name: string) =>
    Number((await driver.query(`PRAGMA ${name}`))[0]?.[name] ?? 0);
  const before = await pages('page_count');
  await driver.settleStatements();
  await driver.exec('VACUUM');
  const checkpoint = (await driver.query('PRAGMA wal_checkpoint(TRUNCATE)'))[0] ?? {};
  return {
    pagesBefore: before,
    pagesAfter: await pages('page_count'),
    checkpointed: Number(checkpoint.busy ?? 1) === 0,
  };
}
