import { resolve } from 'node:path';
import { callNative } from '@aios/utils';
import type * as DataNative from '../native/index.cjs';
import { SQLITE_DIALECT } from './dialect.js';
import type { DriverOptions, SqlDriver, SqlRow, SqlValue } from './driver.js';
import type { ReadOnlyAccess, StoredFragment } from './types.js';
import { parseJson } from './validate.js';

export type DataBinding = typeof DataNative;

type Result = { columns: string[]; rows: Array<Array<SqlValue>> };

function toObjects(result: Result): SqlRow[] {
  const { columns, rows } = result;
  const out: SqlRow[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as SqlValue[];
    const obj: SqlRow = {};
    for (let c = 0; c < columns.length; c++) obj[columns[c] as string] = row[c] as SqlValue;
    out[r] = obj;
  }
  return out;
}

/**
 * The buffer the binding writes fragment records into (one napi call, no JS objects
 * created on the native side), with views to read the fixed-size fields. Records go at
 * `used` and onwards; vectors are handed out as views on their bytes, so the part before
 * `used` is never written again, and a full buffer is replaced, not reused (like Node's
 * Buffer pool: a vector kept alive keeps its 64 KiB chunk alive).
 */
/** Encoded records and the views that read their fixed-size fields. */
interface RecordBytes {
  readonly bytes: Buffer;
  readonly f64: Float64Array;
  readonly u32: Uint32Array;
}

/** Views on records the binding returned in a buffer of its own (an 8-aligned start). */
function recordsIn(buffer: Buffer): RecordBytes {
  const bytes = buffer.byteOffset % 8 === 0 ? buffer : Buffer.from(buffer);
  const { buffer: memory, byteOffset, length } = bytes;
  return {
    bytes,
    f64: new Float64Array(memory, byteOffset, length >>> 3),
    u32: new Uint32Array(memory, byteOffset, length >>> 2),
  };
}

class Scratch implements RecordBytes {
  readonly bytes: Buffer;
  readonly f64: Float64Array;
  readonly u32: Uint32Array;
  used = 0;
  constructor(size: number) {
    const buffer = new ArrayBuffer(Math.max(CHUNK, 2 ** Math.ceil(Math.log2(size))));
    this.bytes = Buffer.from(buffer);
    this.f64 = new Float64Array(buffer);
    this.u32 = new Uint32Array(buffer);
  }
}

const CHUNK = 64 * 1024;
/** Fragments per page of a scan. */
const SCAN_PAGE = 2000;
/** The page cache of a scan (`PRAGMA cache_size`: negative, in KiB). */
const SCAN_CACHE_KIB = -2048;
/** Largest buffer taken for a page of records (a page that needs more takes several). */
const MAX_RANGE_CHUNK = 16 * 1024 * 1024;
/** Below this much room a new chunk is taken before reading (a record did not fit). */
const LOW_WATER = 8 * 1024;
/**
 * Fragments from which a batch is written on the libuv pool rather than the JS thread
 * (5,000 rows with their vectors held it 130-220 ms, commit included; a small batch
 * stays synchronous, without a promise hop).
 */
const OFF_THREAD_ROWS = 256;

/**
 * Native stores open in this process, by database file. A write off the JS thread leaves
 * its transaction open while the JS thread runs on: another store of this process on the
 * same file would then wait for the lock in SQLite's busy handler, on the JS thread, where
 * the commit that ends it must be issued. So a file opened twice in a process is written
 * synchronously, as every file was before.
 */
const openFiles = new Map<string, number>();

/** The record layout of `FRAGMENT_RECORD_HEADER` in crates/data/src/store.rs. */
const HEADER = 64;
const NO_VECTOR = 0xffff_ffff;

/**
 * Decodes the records in `s.bytes[from, to)`; returns the end of the last vector. The id
 * of a record is `ids[index]`, or (range reads, `ids` null) in the record.
 */
function decodeFragments(
  s: RecordBytes,
  from: number,
  to: number,
  ids: readonly string[] | null,
  out: StoredFragment[],
): number {
  const { bytes, f64, u32 } = s;
  let at = from;
  let kept = from;
  while (at < to) {
    const w = at >>> 2;
    const textLen = u32[w + 9] as number;
    const metaLen = u32[w + 10] as number;
    const vectorLen = u32[w + 11] as number;
    const flags = u32[w + 12] as number;
    const namespaceLen = u32[w + 13] as number;
    const attributesLen = u32[w + 14] as number;
    const idLen = u32[w + 15] as number;
    const textAt = at + HEADER;
    const metaAt = textAt + textLen;
    const namespaceAt = metaAt + metaLen;
    const attributesAt = namespaceAt + namespaceLen;
    const idAt = attributesAt + attributesLen;
    const stringsEnd = idAt + idLen;
    let end = (stringsEnd + 7) & ~7;
    let vector: Float32Array | null = null;
    if (vectorLen !== NO_VECTOR) {
      vector = new Float32Array(bytes.buffer, end, vectorLen >>> 2);
      end += vectorLen;
      kept = end;
    }
    const last = f64[(at >>> 3) + 3] as number;
    out.push({
      id:
        ids === null
          ? bytes.toString(flags & 16 ? 'latin1' : 'utf8', idAt, stringsEnd)
          : (ids[u32[w + 8] as number] as string),
      namespace: bytes.toString(flags & 4 ? 'latin1' : 'utf8', namespaceAt, attributesAt),
      text: bytes.toString(flags & 1 ? 'latin1' : 'utf8', textAt, metaAt),
      metadata: parseJson(bytes.toString(flags & 2 ? 'latin1' : 'utf8', metaAt, namespaceAt)),
      attributes: parseJson(bytes.toString(flags & 8 ? 'latin1' : 'utf8', attributesAt, idAt)),
      vector,
      createdAt: f64[at >>> 3] as number,
      updatedAt: f64[(at >>> 3) + 1] as number,
      useCount: f64[(at >>> 3) + 2] as number,
      lastUsedAt: Number.isNaN(last) ? null : last,
    });
    at = (end + 7) & ~7;
  }
  return (kept + 7) & ~7;
}

/** The native implementation: rusqlite (bundled SQLite) in crates/data, through napi. */
export function openNativeDriver(
  binding: DataBinding,
  path: string,
  options: DriverOptions,
): SqlDriver {
  const store = callNative(() =>
    binding.NativeStore.open(path, {
      synchronousFull: options.synchronousFull,
      busyTimeoutMs: options.busyTimeoutMs,
      ...(options.readOnly ? { readOnly: true } : {}),
    }),
  );
  const readOnlyAccess = (store.readOnlyAccess ?? undefined) as ReadOnlyAccess | undefined;
  // An in-memory database is the connection's own.
  const file = path === ':memory:' ? undefined : resolve(path);
  if (file !== undefined) openFiles.set(file, (openFiles.get(file) ?? 0) + 1);
  const alone = () => file === undefined || openFiles.get(file) === 1;
  let released = false;
  let scratch = new Scratch(CHUNK);
  /** Bytes per record in the last read: how much room the next one is likely to need. */
  let recordBytes = 256;
  /** The open transaction wrote a batch off the JS thread: it commits there too. */
  let wroteOffThread = false;
  type Params = Parameters<typeof store.query>[1];
  const p = (params?: readonly SqlValue[]) => (params ?? []) as unknown as Params;
  return {
    implementation: 'native',
    dialect: SQLITE_DIALECT,
    checksVectors: true,
    ...(readOnlyAccess ? { readOnlyAccess } : {}),
    changeToken: () => callNative(() => store.changeToken() ?? undefined),
    query: (sql, params) => callNative(() => toObjects(store.query(sql, p(params)) as Result)),
    run: (sql, params) => callNative(() => store.run(sql, p(params))),
    exec: (sql) => callNative(() => store.exec(sql)),
    begin: () => {
      // A batch written off the thread outside a transaction committed there already.
      wroteOffThread = false;
      return callNative(() => store.exec(SQLITE_DIALECT.begin));
    },
    commit: () => {
      const offThread = wroteOffThread;
      wroteOffThread = false;
      return callNative(() => (offThread ? store.execOffThread('COMMIT') : store.exec('COMMIT')));
    },
    rollback: () => {
      wroteOffThread = false;
      return callNative(() => store.exec('ROLLBACK'));
    },
    runBatch: (sql, rows) =>
      callNative(() =>
        store.runBatch(sql, rows as unknown as Parameters<typeof store.runBatch>[1]),
      ),
    putFragments: (b) => {
      const offThread = b.ids.length >= OFF_THREAD_ROWS && alone();
      wroteOffThread ||= offThread;
      return callNative(() =>
        store.putFragments(
          b.ids,
          b.namespaces,
          b.namespaceIndex,
          b.texts,
          b.metadata,
          b.attributes,
          b.numbers,
          b.flags,
          b.dimension,
          b.vectors,
          b.changes.fragmentIds,
          b.changes.kinds,
          b.changes.data,
          b.changes.at,
          offThread,
        ),
      );
    },
    listFragments: (after, limit, namespace, withVectors) =>
      callNative(() => {
        const out: StoredFragment[] = [];
        let from = after;
        // Records go into the scratch buffer as far as they fit; the rest on the next round.
        while (out.length < limit) {
          const want = limit - out.length;
          const expected = Math.max(LOW_WATER, want * recordBytes);
          if (scratch.bytes.length - scratch.used < expected) {
            scratch = new Scratch(Math.min(Math.max(CHUNK, expected * 1.25), MAX_RANGE_CHUNK));
          }
          const read = (s: Scratch) =>
            store.readFragmentRange(from, namespace, want, s.bytes, s.used, withVectors);
          let written = read(scratch);
          while (written < 0) {
            scratch = new Scratch(-written);
            written = read(scratch);
          }
          if (written === 0) break;
          const before = out.length;
          scratch.used = decodeFragments(scratch, scratch.used, scratch.used + written, null, out);
          recordBytes = Math.ceil(written / (out.length - before));
          from = (out[out.length - 1] as StoredFragment).id;
        }
        return out;
      }),
    scanFragments: async (withVectors, visit) => {
      // Rowids hold still only within a transaction: the pages are read inside one (a
      // savepoint, which nests in a transaction already open). The store's queue runs
      // nothing else on the connection until it is released.
      callNative(() => store.exec('SAVEPOINT aios_scan'));
      const read = (after: number) =>
        callNative(() => store.readFragmentRows(after, SCAN_PAGE, withVectors));
      let next: ReturnType<typeof read> | undefined;
      let cacheSize = Number.NaN;
      try {
        // Each page is read once: the connection's page cache, filled by a scan, would
        // only hold memory (up to its 64 MiB) that nothing reads again.
        const rows = (callNative(() => store.query('PRAGMA cache_size', [])) as Result).rows;
        cacheSize = Number(rows[0]?.[0]);
        callNative(() => store.exec(`PRAGMA cache_size = ${SCAN_CACHE_KIB}`));
        next = read(0);
        for (;;) {
          const page = await next;
          if (page.records.length === 0) return;
          // The pool reads the next page while this thread decodes this one.
          next = read(page.last);
          const records = recordsIn(page.records);
          const out: StoredFragment[] = [];
          decodeFragments(records, 0, records.bytes.length, null, out);
          visit(out);
        }
      } catch (error) {
        next?.catch(() => undefined);
        throw error;
      } finally {
        const restore = Number.isInteger(cacheSize) ? `; PRAGMA cache_size = ${cacheSize}` : '';
        callNative(() => store.exec(`RELEASE aios_scan${restore}`));
      }
    },
    getFragments: (ids, withVectors) =>
      callNative(() => {
        // Room for what these ids are likely to need (from the last record sizes seen), so
        // that a many-id read seldom runs twice for want of space.
        const expected = Math.max(LOW_WATER, ids.length * recordBytes);
        if (scratch.bytes.length - scratch.used < expected) {
          scratch = new Scratch(Math.max(CHUNK, expected * 1.25));
        }
        const read = (s: Scratch) =>
          ids.length === 1
            ? store.readFragment(ids[0] as string, s.bytes, s.used, withVectors)
            : store.readFragments(ids as string[], s.bytes, s.used, withVectors);
        let written = read(scratch);
        while (written < 0) {
          scratch = new Scratch(-written);
          written = read(scratch);
        }
        const out: StoredFragment[] = [];
        scratch.used = decodeFragments(scratch, scratch.used, scratch.used + written, ids, out);
        if (out.length > 0) recordBytes = Math.ceil(written / out.length);
        return out;
      }),
    recordFragmentUses: (ids, counts, ats) =>
      callNative(() =>
        store.recordFragmentUses(ids, Float64Array.from(counts), Float64Array.from(ats)),
      ),
    addMessages: (b) =>
      callNative(() =>
        Array.from(
          store.addMessages(
            b.conversationIds,
            b.roles,
            b.contents,
            b.models,
            b.promptTokens,
            b.completionTokens,
            b.metadata,
            b.timestamps,
          ),
        ),
      ),
    addEvents: (b) =>
      callNative(() =>
        store.addEvents(b.types, b.typeIndex, b.values, b.hasData, b.data, b.timestamps),
      ),
    async analytics(name, args) {
      const result = await callNative(() =>
        store.analytics(name, args.from, args.to, args.limit, args.type ?? undefined),
      );
      return toObjects(result as Result);
    },
    integrityCheck: () => callNative(() => store.integrityCheck()),
    schemaVersion: () => callNative(() => store.schemaVersion()),
    // The Rust side resets every cached statement after each use: none is ever left open.
    settleStatements: () => undefined,
    close: () => {
      if (file !== undefined && !released) {
        released = true;
        const left = (openFiles.get(file) ?? 1) - 1;
        if (left > 0) openFiles.set(file, left);
        else openFiles.delete(file);
      }
      return callNative(() => store.close());
    },
  };
}
