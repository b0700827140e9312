/**
 * @aios/data on PostgreSQL: how a vector column is best kept (bytea of little-endian
 * float32, as SQLite's blobs, against float4[]), measured as insert plus read of 10k
 * 384-d vectors both ways in one run on one server; then the store itself (batched
 * fragment inserts and point reads through the DataStore) on PostgreSQL against SQLite.
 *
 * Needs PostgreSQL's server binaries (initdb); starts its own server on 127.0.0.1.
 * Alone: `pnpm bench data-postgres [--quick]`.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type DataStore, openDataStore } from '@aios/data';
import { startTestPostgres, testTool } from '@aios/utils/testing';
import type { BenchResult, Suite } from '../types.js';

const SUITE = 'data-postgres';
const DIM = 384;

/** The part of node-postgres used here (it is @aios/data's dependency: loaded from there). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}
const pg = createRequire(createRequire(import.meta.url).resolve('@aios/data'))('pg') as {
  Client: new (config: { connectionString: string }) => PgClient;
};

function vectors(n: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => {
    const v = new Float32Array(DIM);
    for (let d = 0; d < DIM; d++) v[d] = Math.sin(i * 0.37 + d) * 0.1;
    return v;
  });
}

const ms = (start: number) => performance.now() - start;

/** Insert then read back `list` in a table whose vector column is `type`. */
async function roundTrip(
  client: PgClient,
  type: 'bytea' | 'float4[]',
  list: Float32Array[],
  batch: number,
): Promise<{ insertMs: number; readMs: number; bytes: number }> {
  const table = type === 'bytea' ? 'v_bytea' : 'v_float4';
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, vector ${type} NOT NULL)`);
  let start = performance.now();
  for (let from = 0; from < list.length; from += batch) {
    const part = list.slice(from, from + batch);
    const ids = part.map((_, i) => from + i);
    if (type === 'bytea') {
      // As the store writes them: one bytea of the batch's vectors, cut per row.
      const all = new Float32Array(part.length * DIM);
      for (const [i, v] of part.entries()) all.set(v, i * DIM);
      await client.query(
        `INSERT INTO ${table} (id, vector)
           SELECT r.id, substring($2::bytea FROM (r.ord - 1)::integer * $3 + 1 FOR $3)
           FROM unnest($1::integer[]) WITH ORDINALITY AS r(id, ord)`,
        [ids, Buffer.from(all.buffer), DIM * 4],
      );
    } else {
      // Each row's vector as an array literal, cast by the server (arrays of arrays of
      // numbers cannot be unnested row by row).
      await client.query(
        `INSERT INTO ${table} (id, vector)
           SELECT r.id, r.v::float4[] FROM unnest($1::integer[], $2::text[]) AS r(id, v)`,
        [ids, part.map((v) => `{${v.join(',')}}`)],
      );
    }
  }
  const insertMs = ms(start);
  start = performance.now();
  const { rows } = await client.query(`SELECT id, vector FROM ${table} ORDER BY id`);
  const read = rows.map((r) =>
    type === 'bytea'
      ? // A copy: node-postgres decodes into pooled (possibly misaligned) buffers.
        new Float32Array(new Uint8Array(r.vector as Buffer).buffer, 0, DIM)
      : Float32Array.from(r.vector as number[]),
  );
  const readMs = ms(start);
  if (read.length !== list.length || read[7]?.[5] !== list[7]?.[5]) {
    throw new Error(`${type}: the vectors read back differ from those written`);
  }
  const size = await client.query(`SELECT pg_total_relation_size('${table}') AS bytes`);
  return { insertMs, readMs, bytes: Number(size.rows[0]?.bytes) };
}

async function storeFigures(
  store: DataStore,
  subject: string,
  n: number,
  results: BenchResult[],
): Promise<void> {
  const list = vectors(n);
  const batch = 1000;
  let start = performance.now();
  for (let from = 0; from < n; from += batch) {
    await store.fragments.put(
      list.slice(from, from + batch).map((vector, i) => ({
        id: `f${from + i}`,
        text: `memory fragment ${from + i}`,
        vector,
        change: { kind: 'add' },
      })),
    );
  }
  const insert = n / (ms(start) / 1000);
  const reads = Math.min(n, 5000);
  start = performance.now();
  for (let i = 0; i < reads; i++) await store.fragments.get(`f${(i * 7919) % n}`);
  const get = reads / (ms(start) / 1000);
  const params = { fragments: n, dimension: DIM, batch };
  results.push(
    {
      suite: SUITE,
      case: `insert ${n} fragments (${DIM}-d, history), batches of ${batch}`,
      subject,
      metric: 'rows/s',
      value: Math.round(insert),
      params,
    },
    {
      suite: SUITE,
      case: `point read by id (with vector), ${n} fragments`,
      subject,
      metric: 'reads/s',
      value: Math.round(get),
      params,
    },
  );
}

export const dataPostgresSuite: Suite = {
  name: SUITE,
  description: 'PostgreSQL store: vector column bytea vs float4[], and put/get against SQLite',
  async run({ quick, scratch, log }) {
    const initdb = testTool('initdb');
    if (!initdb) {
      log('PostgreSQL is not installed (initdb): skipped');
      return [];
    }
    const results: BenchResult[] = [];
    const server = await startTestPostgres(initdb);
    try {
      const database = await server.createDatabase('bench');
      const client = new pg.Client({ connectionString: server.url(database) });
      // bytea as Buffers (node-postgres's default), float4[] as arrays of numbers.
      await client.connect();
      try {
        const n = 10_000;
        const list = vectors(n);
        for (const round of [1, 2]) {
          for (const type of ['bytea', 'float4[]'] as const) {
            const r = await roundTrip(client, type, list, 1000);
            log(
              `round ${round} ${type.padEnd(8)} insert ${r.insertMs.toFixed(0)} ms, read ${r.readMs.toFixed(0)} ms, ${(r.bytes / 1048576).toFixed(1)} MiB`,
            );
            if (round === 2) {
              const params = { vectors: n, dimension: DIM, batch: 1000 };
              const c = `${n} vectors of ${DIM} floats`;
              results.push(
                {
                  suite: SUITE,
                  case: `insert ${c}`,
                  subject: type,
                  metric: 'ms',
                  value: r.insertMs,
                  params,
                },
                {
                  suite: SUITE,
                  case: `read ${c}`,
                  subject: type,
                  metric: 'ms',
                  value: r.readMs,
                  params,
                },
                {
                  suite: SUITE,
                  case: `table size, ${c}`,
                  subject: type,
                  metric: 'MiB',
                  value: r.bytes / 1048576,
                  params,
                },
              );
            }
          }
        }
      } finally {
        await client.end();
      }
      const n = quick ? 5_000 : 20_000;
      log(`the store: ${n} fragments on PostgreSQL, native SQLite and js SQLite`);
      const pgStore = await openDataStore({ url: server.url(await server.createDatabase()) });
      await storeFigures(pgStore, 'postgres', n, results).finally(() => pgStore.close());
      for (const impl of ['native', 'js'] as const) {
        const store = await openDataStore({
          path: join(scratch, `pg-vs-${impl}.db`),
          native: impl,
        });
        await storeFigures(store, `sqlite ${impl}`, n, results).finally(() => store.close());
      }
    } finally {
      await server.close();
    }
    return results;
  },
};
