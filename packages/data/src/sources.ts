import { chain, type Steps } from './awaitable.js';
import type { StoreContext } from './context.js';
import { atomically } from './context.js';
import type { SqlRow } from './driver.js';
import { num } from './rows.js';
import type { SourceFile, SourcePiece, SourcePieceKey, SourceRepository } from './source-types.js';
import {
  namespaceName,
  nonNegativeInt,
  requireArray,
  requireString,
  timestamp,
} from './validate.js';

const toSource = (r: SqlRow): SourceFile => ({
  namespace: String(r.namespace),
  path: String(r.path),
  contentHash: r.content_hash === null ? null : String(r.content_hash),
  size: num(r.size),
  modifiedAt: num(r.modified_at),
  ingestedAt: num(r.ingested_at),
});

const toPiece = (r: SqlRow): SourcePiece => ({
  namespace: String(r.namespace),
  path: String(r.path),
  pieceHash: String(r.piece_hash),
  fragmentId: String(r.fragment_id),
});

/** A namespace that must be given (`namespaceName` takes a fallback when it is absent). */
const requireNamespace = (value: unknown, field: string) => namespaceName(value ?? null, field, '');

function key(value: SourcePieceKey | undefined, field: string) {
  return [
    requireNamespace(value?.namespace, `${field}.namespace`),
    requireString(value?.path, `${field}.path`),
    requireString(value?.pieceHash, `${field}.pieceHash`),
  ] as const;
}

/** Ids are looked up this many at a time (SQLite's parameter limit is 32766). */
const ID_BATCH = 500;

export function createSourceRepository(ctx: StoreContext): SourceRepository {
  const { driver, serial, steps } = ctx;
  return {
    async get(namespace, path) {
      const ns = requireNamespace(namespace, 'namespace');
      requireString(path, 'path');
      return serial(() =>
        chain(
          driver.query('SELECT * FROM sources WHERE namespace = ?1 AND path = ?2', [ns, path]),
          (result) => {
            const row = result[0];
            return row ? toSource(row) : undefined;
          },
        ),
      );
    },
    async list(options = {}) {
      const ns =
        options.namespace === undefined ? null : requireNamespace(options.namespace, 'namespace');
      return serial(() =>
        chain(
          driver.query(
            'SELECT * FROM sources WHERE CAST(?1 AS TEXT) IS NULL OR namespace = ?1 ORDER BY namespace, path',
            [ns],
          ),
          (result) => result.map(toSource),
        ),
      );
    },
    async put(source) {
      const row = [
        requireNamespace(source?.namespace, 'source.namespace'),
        requireString(source.path, 'source.path'),
        source.contentHash === null
          ? null
          : requireString(source.contentHash, 'source.contentHash'),
        nonNegativeInt(source.size, 'source.size'),
        timestamp(source.modifiedAt, 'source.modifiedAt', 0),
        timestamp(source.ingestedAt, 'source.ingestedAt', Date.now()),
      ];
      await serial(() =>
        driver.run(
          `INSERT INTO sources (namespace, path, content_hash, size, modified_at, ingested_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (namespace, path) DO UPDATE SET content_hash = excluded.content_hash,
               size = excluded.size, modified_at = excluded.modified_at,
               ingested_at = excluded.ingested_at`,
          row,
        ),
      );
    },
    async pieces(namespace, path) {
      const ns = requireNamespace(namespace, 'namespace');
      requireString(path, 'path');
      return serial(() =>
        chain(
          driver.query(
            'SELECT * FROM source_pieces WHERE namespace = ?1 AND path = ?2 ORDER BY piece_hash',
            [ns, path],
          ),
          (result) => result.map(toPiece),
        ),
      );
    },
    async putPieces(pieces) {
      const rows = requireArray<SourcePiece>(pieces, 'pieces').map((p, i) => [
        ...key(p, `pieces[${i}]`),
        requireString(p.fragmentId, `pieces[${i}].fragmentId`),
      ]);
      if (rows.length === 0) return 0;
      return serial(() =>
        driver.runBatch(
          `INSERT INTO source_pieces (namespace, path, piece_hash, fragment_id) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (namespace, path, piece_hash) DO UPDATE SET fragment_id = excluded.fragment_id`,
          rows,
        ),
      );
    },
    async removePieces(pieces) {
      const rows = requireArray<SourcePieceKey>(pieces, 'pieces').map((p, i) => [
        ...key(p, `pieces[${i}]`),
      ]);
      if (rows.length === 0) return 0;
      return serial(() =>
        driver.runBatch(
          'DELETE FROM source_pieces WHERE namespace = ?1 AND path = ?2 AND piece_hash = ?3',
          rows,
        ),
      );
    },
    async piecesOf(fragmentIds) {
      const ids = requireArray<string>(fragmentIds, 'fragmentIds').map((id, i) =>
        requireString(id, `fragmentIds[${i}]`),
      );
      return steps(() => piecesOfSteps(ids));
    },
    async fragmentsFrom(namespace, path) {
      const ns = requireNamespace(namespace, 'namespace');
      requireString(path, 'path');
      return serial(() =>
        chain(driver.query(driver.dialect.fragmentsFromSource, [ns, path]), (rows) =>
          rows.map((r) => String(r.id)),
        ),
      );
    },
    async remove(namespace, path) {
      const ns = requireNamespace(namespace, 'namespace');
      requireString(path, 'path');
      return serial(() => atomically(driver, () => removeSteps(ns, path)));
    },
  };

  function* piecesOfSteps(ids: string[]): Steps<SourcePiece[]> {
    const out: SourcePiece[] = [];
    for (let i = 0; i < ids.length; i += ID_BATCH) {
      const batch = ids.slice(i, i + ID_BATCH);
      const marks = batch.map((_, j) => `?${j + 1}`).join(', ');
      out.push(
        ...(yield driver.query(
          `SELECT * FROM source_pieces WHERE fragment_id IN (${marks}) ORDER BY namespace, path, piece_hash`,
          batch,
        )).map(toPiece),
      );
    }
    return out;
  }

  function* removeSteps(ns: string, path: string): Steps<boolean> {
    yield driver.run('DELETE FROM source_pieces WHERE namespace = ?1 AND path = ?2', [ns, path]);
    const removed: { changes: number } = yield driver.run(
      'DELETE FROM sources WHERE namespace = ?1 AND path = ?2',
      [ns, path],
    );
    return removed.changes > 0;
  }
}
