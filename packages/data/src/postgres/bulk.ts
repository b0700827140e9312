/**
 * The batch writes on PostgreSQL: a batch is one statement over arrays (`unnest`), not a
 * round trip per row. Each batch is one transaction (a savepoint inside one). When a
 * batch fails on a row, the rows are tried one by one in a transaction that is rolled
 * back, so the error names the row, as SQLite's does; that costs nothing when none fails.
 */
import { AiosError } from '@aios/utils';
import type { EventColumns, FragmentColumns, MessageColumns, SqlRow, SqlValue } from '../driver.js';
import { DataErrorCode, dataError } from '../errors.js';
import { FRAGMENT_FLAG } from '../sql.js';
import type { PgConnection } from './connection.js';
import { CHANGE_INSERT_MANY, FRAGMENT_UPSERT_MANY, TAKE_CHANGE_SEQS } from './sql.js';

/** Runs `fn` in a transaction, or in a savepoint of the one open. */
export async function atomic<T>(conn: PgConnection, fn: () => Promise<T>): Promise<T> {
  const nested = conn.transactionOpen;
  await conn.exec(nested ? 'SAVEPOINT aios_batch' : 'BEGIN');
  try {
    const result = await fn();
    await conn.exec(nested ? 'RELEASE aios_batch' : 'COMMIT');
    return result;
  } catch (error) {
    try {
      await conn.exec(nested ? 'ROLLBACK TO aios_batch; RELEASE aios_batch' : 'ROLLBACK');
    } catch {
      // the original error matters more
    }
    throw error;
  }
}

const undone = new Error('rolled back on purpose');

/** Runs `fn` in a transaction (or savepoint) that is always rolled back. */
async function dryRun(conn: PgConnection, fn: () => Promise<void>): Promise<void> {
  await atomic(conn, async () => {
    await fn();
    throw undone;
  }).catch((error: unknown) => {
    if (error !== undone) throw error;
  });
}

/** Failures that belong to one row (a constraint, a value), not to the connection. */
function rowLevel(error: unknown): boolean {
  return (
    error instanceof AiosError &&
    [DataErrorCode.DATA_CONSTRAINT, DataErrorCode.DATA_ROW_TOO_LARGE, 'INVALID_INPUT'].includes(
      error.code,
    )
  );
}

/** The error of row `i` of a batch: its code, the row named in the message. */
function rowError(i: number, error: unknown, what = 'row'): AiosError {
  const e = error as AiosError;
  return dataError(e.code, `${what} ${i}: ${e.message}`, { cause: error, details: e.details });
}

/**
 * Runs the batch `whole`; when it fails on a row, finds the first of `n` rows that fails
 * alone (`one(i)`, in a rolled-back transaction) and names it.
 */
async function batch<T>(
  conn: PgConnection,
  whole: () => Promise<T>,
  n: number,
  one: (i: number) => Promise<unknown>,
): Promise<T> {
  try {
    return await whole();
  } catch (error) {
    if (!rowLevel(error)) throw error;
    let found: AiosError | undefined;
    await dryRun(conn, async () => {
      for (let i = 0; i < n && !found; i++) {
        try {
          await atomic(conn, () => one(i));
        } catch (rowFailure) {
          found = rowError(i, rowFailure);
        }
      }
    }).catch(() => undefined);
    throw found ?? error;
  }
}

/** Runs `sql` once per parameter row, in one transaction; returns the rows changed. */
export async function runBatch(
  conn: PgConnection,
  sql: string,
  rows: readonly (readonly SqlValue[])[],
): Promise<number> {
  return atomic(conn, async () => {
    let changes = 0;
    for (const [i, row] of rows.entries()) {
      try {
        changes += (await conn.query(sql, row)).rowCount;
      } catch (error) {
        throw rowError(i, error);
      }
    }
    return changes;
  });
}

const int = (n: number) => Math.trunc(n);

/** The arrays of rows `from`..`to` of a fragment batch, as FRAGMENT_UPSERT_MANY takes them. */
function fragmentParams(b: FragmentColumns, from: number, to: number, mask: number): unknown[] {
  const ids: string[] = [];
  const namespaces: string[] = [];
  const vectorIndex: (number | null)[] = [];
  const created: number[] = [];
  const updated: number[] = [];
  const useCounts: number[] = [];
  const lastUsed: (number | null)[] = [];
  // Rows before `from` that have a vector: where this part's vectors start.
  let v = 0;
  for (let i = 0; i < from; i++) if ((b.flags[i] as number) & FRAGMENT_FLAG.HAS_VECTOR) v++;
  const firstVector = v;
  for (let i = from; i < to; i++) {
    const flags = b.flags[i] as number;
    ids.push(b.ids[i] as string);
    namespaces.push(b.namespaces[b.namespaceIndex[i] as number] as string);
    vectorIndex.push(flags & FRAGMENT_FLAG.HAS_VECTOR ? v++ - firstVector : null);
    created.push(int(b.numbers[i * 4] as number));
    updated.push(int(b.numbers[i * 4 + 1] as number));
    useCounts.push(flags & FRAGMENT_FLAG.SET_USE_COUNT ? int(b.numbers[i * 4 + 2] as number) : 0);
    const last = b.numbers[i * 4 + 3] as number;
    lastUsed.push(flags & FRAGMENT_FLAG.SET_LAST_USED && !Number.isNaN(last) ? int(last) : null);
  }
  const bytes = b.dimension * 4;
  const vectors = Buffer.from(
    b.vectors.buffer,
    b.vectors.byteOffset + firstVector * bytes,
    (v - firstVector) * bytes,
  );
  return [
    ids,
    namespaces,
    b.texts.slice(from, to),
    b.metadata.slice(from, to),
    b.attributes.slice(from, to),
    vectors,
    bytes,
    vectorIndex,
    created,
    updated,
    useCounts,
    lastUsed,
    mask,
  ];
}

/**
 * Parts of a fragment batch that one statement can write: rows that share the flags the
 * update reads (all but HAS_VECTOR), and no id twice (one statement cannot update a row
 * twice; a later row with the same id is written after the earlier, as SQLite does).
 */
function parts(b: FragmentColumns): Array<{ from: number; to: number; mask: number }> {
  const out: Array<{ from: number; to: number; mask: number }> = [];
  let seen = new Set<string>();
  for (let i = 0; i < b.ids.length; i++) {
    const mask = (b.flags[i] as number) & ~FRAGMENT_FLAG.HAS_VECTOR;
    const id = b.ids[i] as string;
    const last = out[out.length - 1];
    if (last && last.mask === mask && !seen.has(id)) {
      last.to = i + 1;
    } else {
      out.push({ from: i, to: i + 1, mask });
      seen = new Set();
    }
    seen.add(id);
  }
  return out;
}

/** Upserts the fragments of the batch and writes its history rows, in one transaction. */
export async function putFragments(conn: PgConnection, b: FragmentColumns): Promise<number> {
  const n = b.ids.length;
  const c = b.changes;
  const runs = parts(b);
  const write = async () => {
    // The change sequence's lock first (with the seqs), before any fragment row is
    // locked: two writers never wait for each other in opposite orders.
    let first = 0;
    if (c.fragmentIds.length > 0) {
      const taken = await conn.query<SqlRow>(TAKE_CHANGE_SEQS, [c.fragmentIds.length]);
      first = Number(taken.rows[0]?.first);
    }
    for (const run of runs) {
      await conn.query(FRAGMENT_UPSERT_MANY, fragmentParams(b, run.from, run.to, run.mask));
    }
    if (c.fragmentIds.length > 0) {
      try {
        await conn.query(CHANGE_INSERT_MANY, [
          c.fragmentIds,
          c.kinds,
          c.data.map((d) => (d === '' ? null : d)),
          Array.from(c.at, int),
          first,
        ]);
      } catch (error) {
        throw rowError(0, error, 'changes from');
      }
    }
    return n;
  };
  const single = runs.length <= 1 && c.fragmentIds.length === 0 && !conn.transactionOpen;
  return batch(
    conn,
    () => (single ? write() : atomic(conn, write)),
    n,
    async (i) => {
      const mask = (b.flags[i] as number) & ~FRAGMENT_FLAG.HAS_VECTOR;
      await conn.query(FRAGMENT_UPSERT_MANY, fragmentParams(b, i, i + 1, mask));
    },
  );
}

/**
 * Counts `counts[i]` uses of fragment `ids[i]`, the last at `ats[i]` (never moving the time
 * back), in one statement; returns the uses counted (of fragments found).
 */
export async function recordFragmentUses(
  conn: PgConnection,
  ids: readonly string[],
  counts: readonly number[],
  ats: readonly number[],
): Promise<number> {
  const { rows } = await conn.query<SqlRow>(
    `UPDATE fragments AS f SET use_count = f.use_count + u.n,
         last_used_at = GREATEST(coalesce(f.last_used_at, u.at), u.at)
       FROM (SELECT id, sum(n) AS n, max(at) AS at
               FROM unnest(?1::text[], ?2::bigint[], ?3::bigint[]) AS u(id, n, at) GROUP BY id) AS u
       WHERE f.id = u.id RETURNING u.n`,
    [ids, counts.map(int), ats.map(int)],
  );
  return rows.reduce((sum, r) => sum + Number(r.n), 0);
}

const MESSAGE_INSERT = `INSERT INTO messages (conversation_id, role, content, model, prompt_tokens,
    completion_tokens, metadata, created_at)
  SELECT m.conversation_id, m.role, m.content, m.model, m.prompt_tokens, m.completion_tokens,
      m.metadata, m.created_at
    FROM unnest(?1::text[], ?2::text[], ?3::text[], ?4::text[], ?5::bigint[], ?6::bigint[],
        ?7::text[], ?8::bigint[])
      WITH ORDINALITY AS m(conversation_id, role, content, model, prompt_tokens,
        completion_tokens, metadata, created_at, ord)
    ORDER BY m.ord
  RETURNING id`;

/**
 * Inserts the messages and moves each conversation's `updated_at` forward as SQLite's
 * does (at the end of each run of rows of one conversation, to the newest time of the
 * batch so far); returns the new message ids in the order of the rows.
 */
export async function addMessages(conn: PgConnection, b: MessageColumns): Promise<number[]> {
  const n = b.conversationIds.length;
  const params = (from: number, to: number) => [
    b.conversationIds.slice(from, to),
    b.roles.slice(from, to),
    b.contents.slice(from, to),
    b.models.slice(from, to).map((m) => (m === '' ? null : m)),
    Array.from(b.promptTokens.subarray(from, to), int),
    Array.from(b.completionTokens.subarray(from, to), int),
    b.metadata.slice(from, to),
    Array.from(b.timestamps.subarray(from, to), int),
  ];
  const touched: string[] = [];
  const touchedAt: number[] = [];
  let last: string | undefined;
  let lastTs = 0;
  for (let i = 0; i < n; i++) {
    const cid = b.conversationIds[i] as string;
    if (last !== undefined && last !== cid) {
      touched.push(last);
      touchedAt.push(lastTs);
    }
    last = cid;
    lastTs = Math.max(lastTs, int(b.timestamps[i] as number));
  }
  if (last !== undefined) {
    touched.push(last);
    touchedAt.push(lastTs);
  }
  return batch(
    conn,
    () =>
      atomic(conn, async () => {
        const { rows } = await conn.query<SqlRow>(MESSAGE_INSERT, params(0, n));
        await conn.query(
          `UPDATE conversations AS c SET updated_at = greatest(c.updated_at, t.ts)
             FROM (SELECT id, max(ts) AS ts FROM unnest(?1::text[], ?2::bigint[]) AS t(id, ts)
               GROUP BY id) AS t
             WHERE c.id = t.id`,
          [touched, touchedAt],
        );
        // Ids are taken in row order within the statement: ascending is the rows' order.
        return rows.map((r) => Number(r.id)).sort((x, y) => x - y);
      }),
    n,
    (i) => conn.query(MESSAGE_INSERT, params(i, i + 1)),
  );
}

const EVENT_INSERT = `INSERT INTO events (type, value, data, created_at)
  SELECT e.type, e.value, e.data, e.created_at
    FROM unnest(?1::text[], ?2::double precision[], ?3::text[], ?4::bigint[])
      WITH ORDINALITY AS e(type, value, data, created_at, ord)
    ORDER BY e.ord`;

/** Inserts the events; returns how many. */
export async function addEvents(conn: PgConnection, b: EventColumns): Promise<number> {
  const n = b.typeIndex.length;
  const types: string[] = new Array(n);
  const values: (number | null)[] = new Array(n);
  const data: (string | null)[] = new Array(n);
  const at: number[] = new Array(n);
  for (let i = 0, d = 0; i < n; i++) {
    const value = b.values[i] as number;
    types[i] = b.types[b.typeIndex[i] as number] as string;
    values[i] = Number.isNaN(value) ? null : value;
    data[i] = b.hasData[i] ? (b.data[d++] as string) : null;
    at[i] = int(b.timestamps[i] as number);
  }
  const params = (from: number, to: number) => [
    types.slice(from, to),
    values.slice(from, to),
    data.slice(from, to),
    at.slice(from, to),
  ];
  const insert = async () => {
    await conn.query(EVENT_INSERT, params(0, n));
    return n;
  };
  // One statement is atomic by itself; inside a transaction, a savepoint keeps a failed
  // batch from aborting the rest of it.
  return batch(
    conn,
    () => (conn.transactionOpen ? atomic(conn, insert) : insert()),
    n,
    (i) => conn.query(EVENT_INSERT, params(i, i + 1)),
  );
}
