import { fromNativeError } from '@aios/utils';
import type * as DataNative from '../native/index.cjs';
import type { DriverOptions, FragmentRowsOut, SqlDriver, SqlRow, SqlValue } from './driver.js';

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

/** A typed-array view on a Buffer's bytes (copied once if the Buffer is misaligned). */
function view<T extends Float32Array | Float64Array>(
  bytes: Uint8Array,
  Type: {
    new (buffer: ArrayBufferLike, offset: number, length: number): T;
    BYTES_PER_ELEMENT: number;
  },
): T {
  const size = Type.BYTES_PER_ELEMENT;
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new Type(aligned.buffer, aligned.byteOffset, aligned.byteLength / size);
}

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw fromNativeError(error);
  }
}

/** The native implementation: rusqlite (bundled SQLite) in crates/data, through napi. */
export function openNativeDriver(
  binding: DataBinding,
  path: string,
  options: DriverOptions,
): SqlDriver {
  const store = call(() =>
    binding.NativeStore.open(path, {
      synchronousFull: options.synchronousFull,
      busyTimeoutMs: options.busyTimeoutMs,
    }),
  );
  type Params = Parameters<typeof store.query>[1];
  const p = (params?: readonly SqlValue[]) => (params ?? []) as unknown as Params;
  return {
    implementation: 'native',
    query: (sql, params) => call(() => toObjects(store.query(sql, p(params)) as Result)),
    run: (sql, params) => call(() => store.run(sql, p(params))),
    exec: (sql) => call(() => store.exec(sql)),
    runBatch: (sql, rows) =>
      call(() => store.runBatch(sql, rows as unknown as Parameters<typeof store.runBatch>[1])),
    putFragments: (b) =>
      call(() =>
        store.putFragments(
          b.ids,
          b.texts,
          b.metadata,
          b.timestamps,
          b.hasVector,
          b.dimension,
          b.vectors,
        ),
      ),
    getFragments: (ids) =>
      call(() => {
        const out = store.getFragments(ids);
        const n = out.ids.length;
        const num = view(out.numbers, Float64Array);
        const packed = view(out.vectors, Float32Array);
        let withVector = 0;
        for (let i = 0; i < n; i++) withVector += num[i * 5 + 4] as number;
        const dim = withVector > 0 ? packed.length / withVector : 0;
        const rows: FragmentRowsOut = {
          ids: out.ids,
          texts: out.texts,
          metadata: out.metadata,
          createdAt: new Array(n),
          updatedAt: new Array(n),
          useCount: new Array(n),
          lastUsedAt: new Array(n),
          vectors: new Array(n),
        };
        let offset = 0;
        for (let i = 0; i < n; i++) {
          const base = i * 5;
          (rows.createdAt as number[])[i] = num[base] as number;
          (rows.updatedAt as number[])[i] = num[base + 1] as number;
          (rows.useCount as number[])[i] = num[base + 2] as number;
          (rows.lastUsedAt as number[])[i] = num[base + 3] as number;
          if (num[base + 4]) {
            rows.vectors[i] = packed.subarray(offset, offset + dim);
            offset += dim;
          } else {
            rows.vectors[i] = null;
          }
        }
        return rows;
      }),
    markFragmentsUsed: (ids, at) => call(() => store.markFragmentsUsed(ids, at)),
    addMessages: (b) =>
      call(() =>
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
    addEvents: (b) => call(() => store.addEvents(b.types, b.values, b.data, b.timestamps)),
    async analytics(name, args) {
      try {
        const result = await store.analytics(
          name,
          args.from,
          args.to,
          args.limit,
          args.type ?? undefined,
        );
        return toObjects(result as Result);
      } catch (error) {
        throw fromNativeError(error);
      }
    },
    integrityCheck: () => call(() => store.integrityCheck()),
    schemaVersion: () => call(() => store.schemaVersion()),
    close: () => call(() => store.close()),
  };
}
