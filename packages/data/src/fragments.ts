import { AiosError, invalidInput, timeOrderedUuid } from '@aios/utils';
import { type Awaitable, chain, type Steps } from './awaitable.js';
import { atomically, type StoreContext } from './context.js';
import type { ChangeColumns, SqlRow } from './driver.js';
import { eraseNamespaceRows } from './erase.js';
import { DataErrorCode, dataError } from './errors.js';
import { metaEntries, writeMeta } from './meta.js';
import { numberingOptions, numberRows, takeNumbers, withoutKey } from './numbering.js';
import {
  CHANGE_INSERT,
  CHANGE_INSERT_IF_PRESENT,
  DEFAULT_FRAGMENT_NAMESPACE,
  FRAGMENT_FLAG,
} from './sql.js';
import type {
  FragmentRepository,
  FragmentUse,
  Numbering,
  PutOptions,
  ReadOptions,
  StoredFragmentChange,
  StoredFragmentChangeInput,
  StoredFragmentInput,
} from './types.js';
import {
  changeInput,
  checkRowSize,
  checkVector,
  count,
  isPlainObject,
  json,
  namespaceName,
  nonNegativeInt,
  parseJson,
  requireArray,
  requireString,
  rowBytes,
  timestamp,
} from './validate.js';

/** Largest vector dimension. */
const MAX_DIMENSION = 65_536;
/** Uses one entry of `recordUses` may count (a use count is a 64-bit integer). */
const MAX_USES = 2 ** 31 - 1;
/** Floats of the vector packing buffer kept between batches (16 MiB). */
const MAX_PACK_BUFFER = 4 * 1024 * 1024;

const ids = (list: unknown, field = 'ids'): string[] =>
  requireArray<string>(list, field).map((id, i) => requireString(id, `${field}[${i}]`));

function withVectors(options: ReadOptions | undefined): boolean {
  if (options === undefined) return true;
  if (!isPlainObject(options)) throw invalidInput('options', options, 'an object { vectors? }');
  if (options.vectors === undefined) return true;
  if (typeof options.vectors !== 'boolean') {
    throw invalidInput('options.vectors', options.vectors, 'a boolean');
  }
  return options.vectors;
}

function toChange(r: SqlRow): StoredFragmentChange {
  return {
    seq: Number(r.seq),
    fragmentId: String(r.fragment_id),
    kind: String(r.kind),
    data: r.data === null ? null : parseJson(r.data),
    at: Number(r.created_at),
  };
}

function emptyChanges(): ChangeColumns {
  return { fragmentIds: [], kinds: [], data: [], at: new Float64Array(0) };
}

/** History rows in columns, from validated entries. */
function changeColumns(
  rows: ReadonlyArray<{ fragmentId: string; kind: string; data: string; at: number }>,
): ChangeColumns {
  if (rows.length === 0) return emptyChanges();
  return {
    fragmentIds: rows.map((r) => r.fragmentId),
    kinds: rows.map((r) => r.kind),
    data: rows.map((r) => r.data),
    at: Float64Array.from(rows, (r) => r.at),
  };
}

export function createFragmentRepository(ctx: StoreContext): FragmentRepository {
  const { driver, serial, steps, maxRowBytes } = ctx;
  let packBuffer = new Float32Array(0);

  /** Fixes the store's dimension at `dim` unless it has one; fails if it has another. */
  function* recordDimension(dim: number, field: string): Steps<boolean> {
    if (ctx.dimension !== undefined) return false;
    const locking = driver.dialect.lock('dimension');
    if (locking !== null) yield driver.query(locking);
    // Another batch (or another process) may have fixed the dimension meanwhile.
    const rows: SqlRow[] = yield driver.query(
      "SELECT value FROM meta WHERE key = 'vector_dimension'",
    );
    const stored = rows[0] ? Number(rows[0].value) : undefined;
    if (stored !== undefined && stored !== dim) {
      throw dataError(
        DataErrorCode.DATA_DIMENSION_MISMATCH,
        `${field}: expected ${stored} dimensions (the store's), got ${dim}`,
      );
    }
    if (stored !== undefined) {
      ctx.dimension = stored;
      return false;
    }
    yield driver.run("INSERT INTO meta (key, value) VALUES ('vector_dimension', ?1)", [
      String(dim),
    ]);
    return true;
  }

  /**
   * Validates and packs a batch for `driver.putFragments`. With `numbered`, each row's
   * attributes are kept without that key, for `numberRows` to add the number to.
   */
  const prepare = (fragments: unknown, options: PutOptions, numbered?: string) => {
    const list = requireArray<StoredFragmentInput>(fragments, 'fragments');
    if (!isPlainObject(options)) throw invalidInput('options', options, 'an options object');
    if (options.keepVectors !== undefined && typeof options.keepVectors !== 'boolean') {
      throw invalidInput('options.keepVectors', options.keepVectors, 'a boolean');
    }
    const keep = options.keepVectors === true ? FRAGMENT_FLAG.KEEP_VECTOR : 0;
    const meta = metaEntries(options.meta, 'options.meta', maxRowBytes);
    const now = Date.now();
    const n = list.length;
    const idList: string[] = new Array(n);
    const texts: string[] = new Array(n);
    const metadata: string[] = new Array(n);
    const attributes: string[] = new Array(n);
    const namespaces: string[] = [];
    const namespaceIds = new Map<string, number>();
    const namespaceIndex = new Uint32Array(n);
    const numbers = new Float64Array(n * 4);
    const flags = new Uint8Array(n);
    const history: Array<{ fragmentId: string; kind: string; data: string; at: number }> = [];
    let dim = ctx.dimension;
    let withVector = 0;
    // A native driver refuses NaN/Infinity itself, faster than a scan here; while the
    // store has no dimension yet the scan stays (the batch then records it first).
    const scan = !driver.checksVectors || ctx.dimension === undefined;
    for (let i = 0; i < n; i++) {
      const f = list[i];
      const at = `fragments[${i}]`;
      if (!isPlainObject(f)) throw invalidInput(at, f, 'a fragment object { text, ... }');
      // In time order, so that the indexes of ids grow at their end (see timeOrderedUuid).
      const id = f.id === undefined ? timeOrderedUuid() : requireString(f.id, `${at}.id`);
      idList[i] = id;
      texts[i] = requireString(f.text, `${at}.text`, { empty: true });
      metadata[i] = json(f.metadata, `${at}.metadata`);
      attributes[i] = json(
        numbered === undefined ? f.attributes : withoutKey(f.attributes, numbered),
        `${at}.attributes`,
      );
      const ns = namespaceName(f.namespace, `${at}.namespace`, DEFAULT_FRAGMENT_NAMESPACE);
      let nsIndex = namespaceIds.get(ns);
      if (nsIndex === undefined) {
        nsIndex = namespaces.push(ns) - 1;
        namespaceIds.set(ns, nsIndex);
      }
      namespaceIndex[i] = nsIndex;
      const created = timestamp(f.createdAt, `${at}.createdAt`, now);
      numbers[i * 4] = created;
      numbers[i * 4 + 1] = timestamp(f.updatedAt, `${at}.updatedAt`, created);
      let flag = keep;
      if (f.useCount !== undefined) {
        numbers[i * 4 + 2] = nonNegativeInt(f.useCount, `${at}.useCount`);
        flag |= FRAGMENT_FLAG.SET_USE_COUNT;
      }
      if (f.lastUsedAt !== undefined) {
        numbers[i * 4 + 3] =
          f.lastUsedAt === null ? Number.NaN : timestamp(f.lastUsedAt, `${at}.lastUsedAt`, now);
        flag |= FRAGMENT_FLAG.SET_LAST_USED;
      }
      let vectorBytes = 0;
      if (f.vector !== undefined && f.vector !== null) {
        const v = checkVector(f.vector, `${at}.vector`, dim, scan);
        dim = v.length;
        flag |= FRAGMENT_FLAG.HAS_VECTOR;
        withVector++;
        vectorBytes = v.byteLength;
      }
      flags[i] = flag;
      if (f.change !== undefined) {
        history.push({ fragmentId: id, ...changeInput(f.change, `${at}.change`, now) });
      }
      checkRowSize(
        rowBytes(
          maxRowBytes,
          vectorBytes,
          texts[i] as string,
          metadata[i] as string,
          attributes[i] as string,
        ),
        maxRowBytes,
        at,
      );
    }
    if (options.history !== undefined) {
      requireArray<unknown>(options.history, 'options.history').forEach((c, i) => {
        const field = `options.history[${i}]`;
        if (!isPlainObject(c)) throw invalidInput(field, c, 'a change { fragmentId, kind, ... }');
        const fragmentId = requireString(c.fragmentId, `${field}.fragmentId`);
        history.push({ fragmentId, ...changeInput(c, field, now) });
      });
    }
    // Packed into one array for one napi call. With nothing queued the driver reads it
    // at once (serial runs it synchronously), so a buffer kept across calls serves and
    // a batch does not map and fault in fresh memory; a queued batch gets its own copy.
    const size = withVector * (dim ?? 0);
    let vectors: Float32Array;
    if (!ctx.busy() && size <= MAX_PACK_BUFFER) {
      if (packBuffer.length < size) packBuffer = new Float32Array(size);
      vectors = packBuffer.subarray(0, size);
    } else {
      vectors = new Float32Array(size);
    }
    for (let i = 0, offset = 0; i < n; i++) {
      if (!((flags[i] as number) & FRAGMENT_FLAG.HAS_VECTOR)) continue;
      vectors.set((list[i] as StoredFragmentInput).vector as Float32Array, offset);
      offset += dim as number;
    }
    const columns = {
      ids: idList,
      namespaces,
      namespaceIndex,
      texts,
      metadata,
      attributes,
      numbers,
      flags,
      dimension: dim ?? 0,
      vectors,
      changes: changeColumns(history),
    };
    return { list, idList, n, flags, dim, scan, meta, columns };
  };
  type Prepared = ReturnType<typeof prepare>;

  /** Names the item and component at fault when the driver refused a vector, as the scan would have. */
  const nameVector = (p: Prepared, error: unknown): never => {
    if (!p.scan && error instanceof AiosError && error.code === 'INVALID_INPUT') {
      for (let i = 0; i < p.n; i++) {
        const v = (p.list[i] as StoredFragmentInput).vector;
        if ((p.flags[i] as number) & FRAGMENT_FLAG.HAS_VECTOR)
          checkVector(v, `fragments[${i}].vector`, p.dim);
      }
    }
    throw error;
  };

  /**
   * Writes a prepared batch (in the store's queue). `inTransaction` runs first in the
   * same transaction (then there always is one).
   */
  /** Deletes with a history row for each fragment that was there. */
  function* deleteSteps(
    list: string[],
    rows: Array<{ kind: string; data: string; at: number }>,
  ): Steps<number> {
    let deleted = 0;
    for (const [i, id] of list.entries()) {
      const c = rows[i] as { kind: string; data: string; at: number };
      // Only a fragment that was there gets a "deleted" entry.
      yield driver.run(CHANGE_INSERT_IF_PRESENT, [id, c.kind, c.data === '' ? null : c.data, c.at]);
      const removed: { changes: number } = yield driver.run('DELETE FROM fragments WHERE id = ?1', [
        id,
      ]);
      deleted += removed.changes;
    }
    return deleted;
  }

  /** New vectors for every fragment that has one, and the new dimension. */
  function* replaceSteps(
    rows: Array<{
      id: string;
      bytes: Uint8Array;
      change: { kind: string; data: string; at: number } | undefined;
    }>,
    newDimension: number,
    meta: Array<[string, string]>,
  ): Steps<void> {
    for (const [i, r] of rows.entries()) {
      const updated: { changes: number } = yield driver.run(
        'UPDATE fragments SET vector = ?2 WHERE id = ?1',
        [r.id, r.bytes],
      );
      if (updated.changes === 0) {
        throw dataError(
          DataErrorCode.DATA_NOT_FOUND,
          `vectors[${i}].id: no fragment ${JSON.stringify(r.id)}`,
          { details: { id: r.id } },
        );
      }
    }
    const others: SqlRow[] = yield driver.query(
      'SELECT count(*) AS n FROM fragments WHERE vector IS NOT NULL AND length(vector) != ?1',
      [newDimension * 4],
    );
    const left = Number(others[0]?.n ?? 0);
    if (left > 0) {
      throw dataError(
        DataErrorCode.DATA_DIMENSION_MISMATCH,
        `vectors: ${left} fragments would keep vectors of another dimension than ${newDimension}; give every fragment that has a vector a new one (nothing was changed)`,
        { details: { dimension: newDimension, left } },
      );
    }
    yield driver.run(
      "INSERT INTO meta (key, value) VALUES ('vector_dimension', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [String(newDimension)],
    );
    for (const r of rows) {
      if (r.change) {
        yield driver.run(CHANGE_INSERT, [
          r.id,
          r.change.kind,
          r.change.data === '' ? null : r.change.data,
          r.change.at,
        ]);
      }
    }
    yield* writeMeta(driver, meta);
  }

  /** Takes the batch's numbers and puts them into its rows' attributes. */
  function* numberSteps(
    p: Prepared,
    numbering: Required<Numbering>,
    taken: { first: number },
    onNumbered: ((first: number) => void) | undefined,
  ): Steps<void> {
    taken.first = yield* takeNumbers(driver, numbering, p.n);
    numberRows(p.columns.attributes, numbering.attribute, taken.first);
    onNumbered?.(taken.first);
  }

  /** A batch with what must commit with it (see `write`). */
  function* writeSteps(
    p: Prepared,
    needsDimension: boolean,
    inTransaction?: () => Steps<void>,
  ): Steps<boolean> {
    if (inTransaction) yield* inTransaction();
    const recorded = needsDimension && (yield* recordDimension(p.dim as number, 'fragments'));
    yield driver.putFragments(p.columns);
    yield* writeMeta(driver, p.meta);
    return recorded;
  }

  const write = (p: Prepared, inTransaction?: () => Steps<void>): Awaitable<void> => {
    const { dim, meta, columns } = p;
    const needsDimension = ctx.dimension === undefined && dim !== undefined;
    let written: Awaitable<boolean>;
    try {
      written =
        !needsDimension && meta.length === 0 && !inTransaction
          ? // The common case, one driver call: synchronous on SQLite, no microtask hop.
            chain(driver.putFragments(columns), () => false)
          : // The dimension, numbers and owner state commit with the batch, or not at all.
            atomically(driver, () => writeSteps(p, needsDimension, inTransaction));
    } catch (error) {
      return nameVector(p, error);
    }
    const recorded = (done: boolean) => {
      if (done) ctx.dimension = dim;
    };
    return written instanceof Promise
      ? written.then(recorded, (error: unknown) => nameVector(p, error))
      : recorded(written);
  };

  const repository: FragmentRepository = {
    async put(fragments, options = {}) {
      const p = prepare(fragments, options);
      return serial(() => chain(write(p), () => p.idList));
    },

    async putNumbered(fragments, options) {
      if (!isPlainObject(options)) {
        throw invalidInput('options', options, 'an options object { numbering, ... }');
      }
      const numbering = numberingOptions(options.numbering);
      const { onNumbered } = options;
      if (onNumbered !== undefined && typeof onNumbered !== 'function') {
        throw invalidInput('options.onNumbered', onNumbered, 'a function');
      }
      const p = prepare(fragments, options, numbering.attribute);
      const taken = { first: 0 };
      return serial(() =>
        chain(
          write(p, () => numberSteps(p, numbering, taken, onNumbered)),
          () => ({
            ids: p.idList,
            numbers: p.idList.map((_, i) => taken.first + i),
          }),
        ),
      );
    },

    get(id, options) {
      // Not async: a point read is a few microseconds, and each extra promise shows.
      if (typeof id !== 'string' || id === '') {
        return Promise.reject(invalidInput('id', id, 'a non-empty string'));
      }
      let vectorsToo: boolean;
      try {
        vectorsToo = withVectors(options);
      } catch (error) {
        return Promise.reject(error);
      }
      return serial(() => chain(driver.getFragments([id], vectorsToo), (found) => found[0]));
    },

    async getMany(idList, options) {
      const list = ids(idList);
      const vectorsToo = withVectors(options);
      return serial(() => driver.getFragments(list, vectorsToo));
    },

    async list(options = {}) {
      const vectorsToo = withVectors({ vectors: options.vectors });
      const limit = count(options.limit, 'limit', 100, 100_000);
      const after = options.after === undefined ? '' : requireString(options.after, 'after');
      const namespace =
        options.namespace === undefined
          ? undefined
          : namespaceName(options.namespace, 'namespace', DEFAULT_FRAGMENT_NAMESPACE);
      return serial(() => driver.listFragments(after, limit, namespace ?? null, vectorsToo));
    },

    async scan(visit, options) {
      if (typeof visit !== 'function') throw invalidInput('visit', visit, 'a function');
      const vectorsToo = withVectors(options);
      return serial(() => driver.scanFragments(vectorsToo, visit));
    },

    async delete(idList, options = {}) {
      const list = ids(idList);
      if (!isPlainObject(options)) throw invalidInput('options', options, 'an options object');
      if (options.changes === undefined) {
        return serial(() =>
          driver.runBatch(
            'DELETE FROM fragments WHERE id = ?1',
            list.map((id) => [id]),
          ),
        );
      }
      const changes = requireArray<StoredFragmentChangeInput>(options.changes, 'options.changes');
      if (changes.length !== list.length) {
        throw invalidInput(
          'options.changes',
          changes,
          `one change per id (${list.length} of them)`,
        );
      }
      const now = Date.now();
      const rows = changes.map((c, i) => changeInput(c, `options.changes[${i}]`, now));
      return serial(() => atomically(driver, () => deleteSteps(list, rows), 'history'));
    },

    async linkingTo(targets) {
      const wanted = new Set(ids(targets));
      return serial(async () => {
        const ids = new Set<string>();
        for (const target of wanted) {
          const rows = await driver.query(driver.dialect.fragmentsLinkingTo, [target]);
          for (const row of rows) ids.add(String(row.id));
        }
        return [...ids];
      });
    },

    async count(options = {}) {
      if (!isPlainObject(options))
        throw invalidInput('options', options, 'an object { namespace? }');
      const namespace =
        options.namespace === undefined
          ? undefined
          : namespaceName(options.namespace, 'namespace', DEFAULT_FRAGMENT_NAMESPACE);
      return serial(() =>
        chain(
          namespace === undefined
            ? driver.query('SELECT count(*) AS n FROM fragments')
            : driver.query('SELECT count(*) AS n FROM fragments WHERE namespace = ?1', [namespace]),
          (rows) => Number(rows[0]?.n ?? 0),
        ),
      );
    },

    async markUsed(idList, at) {
      const when = timestamp(at, 'at', Date.now());
      const counts = new Map<string, number>();
      for (const id of ids(idList)) counts.set(id, (counts.get(id) ?? 0) + 1);
      return serial(() =>
        driver.recordFragmentUses(
          [...counts.keys()],
          [...counts.values()],
          [...counts.keys()].map(() => when),
        ),
      );
    },

    async recordUses(uses) {
      const list = requireArray<FragmentUse>(uses, 'uses');
      const now = Date.now();
      const idList: string[] = [];
      const counts: number[] = [];
      const ats: number[] = [];
      list.forEach((u, i) => {
        const at = `uses[${i}]`;
        if (!isPlainObject(u)) throw invalidInput(at, u, 'an object { id, count, at? }');
        idList.push(requireString(u.id, `${at}.id`));
        counts.push(count(u.count, `${at}.count`, 1, MAX_USES));
        ats.push(timestamp(u.at, `${at}.at`, now));
      });
      if (idList.length === 0) return 0;
      return serial(() => driver.recordFragmentUses(idList, counts, ats));
    },

    // Another process (or store) may have fixed the dimension since this one last looked.
    dimension: () =>
      serial(() =>
        ctx.dimension !== undefined
          ? ctx.dimension
          : chain(ctx.readDimension(), (dimension) => {
              ctx.dimension = dimension;
              return dimension;
            }),
      ),

    async replaceVectors(entries, options = {}) {
      const list = requireArray<{
        id: string;
        vector: Float32Array;
        change?: StoredFragmentChangeInput;
      }>(entries, 'vectors');
      if (!isPlainObject(options)) throw invalidInput('options', options, 'an options object');
      const meta = metaEntries(options.meta, 'options.meta', maxRowBytes);
      const now = Date.now();
      let dim: number | undefined;
      if (options.dimension !== undefined) {
        dim = count(options.dimension, 'options.dimension', 0, MAX_DIMENSION);
        if (dim === 0)
          throw invalidInput('options.dimension', 0, `an integer from 1 to ${MAX_DIMENSION}`);
      }
      const rows = list.map((e, i) => {
        const at = `vectors[${i}]`;
        if (!isPlainObject(e)) throw invalidInput(at, e, 'an object { id, vector, change? }');
        const id = requireString(e.id, `${at}.id`);
        // The first vector (or options.dimension) sets the new dimension; the others agree.
        const v = checkVector(e.vector, `${at}.vector`, dim);
        dim = v.length;
        const change =
          e.change === undefined ? undefined : changeInput(e.change, `${at}.change`, now);
        return { id, bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength), change };
      });
      if (dim === undefined) {
        throw invalidInput(
          'options.dimension',
          undefined,
          'the new dimension when no vector is given',
        );
      }
      const newDimension = dim;
      return serial(() =>
        chain(
          atomically(
            driver,
            () => replaceSteps(rows, newDimension, meta),
            rows.some((r) => r.change) ? 'history' : undefined,
          ),
          () => {
            ctx.dimension = newDimension;
            return rows.length;
          },
        ),
      );
    },

    async history(id, options = {}) {
      requireString(id, 'id');
      if (!isPlainObject(options))
        throw invalidInput('options', options, 'an object { after?, limit? }');
      const after = count(options.after, 'after', 0, Number.MAX_SAFE_INTEGER);
      const limit = count(options.limit, 'limit', 1000, 1_000_000);
      return serial(() =>
        chain(
          driver.query(
            'SELECT * FROM fragment_changes WHERE fragment_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3',
            [id, after, limit],
          ),
          (result) => result.map(toChange),
        ),
      );
    },

    async eraseNamespace(namespace, options = {}) {
      const ns = namespaceName(namespace, 'namespace', DEFAULT_FRAGMENT_NAMESPACE);
      if (!isPlainObject(options)) throw invalidInput('options', options, 'an object { ids? }');
      const extra = options.ids === undefined ? [] : ids(options.ids, 'options.ids');
      const at = Date.now();
      return serial(() => eraseNamespaceRows(driver, ns, extra, at));
    },

    latestChange: () =>
      serial(() =>
        chain(driver.query('SELECT coalesce(max(seq), 0) AS n FROM fragment_changes'), (result) =>
          Number(result[0]?.n ?? 0),
        ),
      ),

    async changedSince(seq) {
      const from = count(seq, 'seq', 0, Number.MAX_SAFE_INTEGER);
      return steps(() => changedSinceSteps(from));
    },
  };
  return repository;

  function* changedSinceSteps(from: number): Steps<{ ids: string[]; seq: number }> {
    const latest = Number(
      (yield driver.query('SELECT coalesce(max(seq), 0) AS n FROM fragment_changes'))[0]?.n ?? 0,
    );
    const changed =
      latest > from
        ? (yield driver.query(
            'SELECT DISTINCT fragment_id FROM fragment_changes WHERE seq > ?1 AND seq <= ?2',
            [from, latest],
          )).map((r: SqlRow) => String(r.fragment_id))
        : [];
    return { ids: changed, seq: latest };
  }
}
