import { invalidInput } from '@aios/utils';
import type { EventColumns, FragmentColumns, MessageColumns, SqlValue } from '../driver.js';
import { dataError } from '../errors.js';
import { CHANGE_INSERT, FRAGMENT_FLAG, FRAGMENT_UPSERT } from '../sql.js';
import type { Connection } from './connection.js';
import { rowError, sqliteError } from './statements.js';

// The batch writes: each runs its rows in one transaction (a savepoint inside one), so a
// failing row leaves none of the batch written; the error names the row.

function checkLen(name: string, len: number, expected: number): void {
  if (len !== expected) throw invalidInput(name, len, `${expected} entries`);
}

/** Runs `sql` once per parameter row; returns the rows changed. */
export function runBatch(
  conn: Connection,
  sql: string,
  rows: readonly (readonly SqlValue[])[],
): number {
  conn.ensureOpen();
  return conn.transaction(() => {
    const stmt = conn.prepare(sql);
    let changes = 0;
    rows.forEach((row, i) => {
      try {
        changes += stmt.run(row as SqlValue[]).changes;
      } catch (error) {
        throw rowError(i, error);
      }
    });
    return changes;
  });
}

/** Upserts the fragments of the batch and writes its history rows, in one transaction. */
export function putFragments(conn: Connection, b: FragmentColumns): number {
  conn.ensureOpen();
  const n = b.ids.length;
  checkLen('namespaceIndex', b.namespaceIndex.length, n);
  checkLen('texts', b.texts.length, n);
  checkLen('metadata', b.metadata.length, n);
  checkLen('attributes', b.attributes.length, n);
  checkLen('numbers', b.numbers.length, n * 4);
  checkLen('flags', b.flags.length, n);
  const c = b.changes;
  checkLen('changeKinds', c.kinds.length, c.fragmentIds.length);
  checkLen('changeData', c.data.length, c.fragmentIds.length);
  checkLen('changeAt', c.at.length, c.fragmentIds.length);
  return conn.transaction(() => {
    const stmt = conn.prepare(FRAGMENT_UPSERT);
    let offset = 0;
    const bytes = new Uint8Array(b.vectors.buffer, b.vectors.byteOffset, b.vectors.byteLength);
    const params: SqlValue[] = new Array(11);
    for (let i = 0; i < n; i++) {
      const flags = b.flags[i] as number;
      let blob: Uint8Array | null = null;
      if (flags & FRAGMENT_FLAG.HAS_VECTOR) {
        blob = bytes.subarray(offset * 4, (offset + b.dimension) * 4);
        offset += b.dimension;
      }
      const lastUsed = b.numbers[i * 4 + 3] as number;
      params[0] = b.ids[i] as string;
      params[1] = b.namespaces[b.namespaceIndex[i] as number] as string;
      params[2] = b.texts[i] as string;
      params[3] = b.metadata[i] as string;
      params[4] = b.attributes[i] as string;
      params[5] = blob;
      params[6] = Math.trunc(b.numbers[i * 4] as number);
      params[7] = Math.trunc(b.numbers[i * 4 + 1] as number);
      params[8] =
        flags & FRAGMENT_FLAG.SET_USE_COUNT ? Math.trunc(b.numbers[i * 4 + 2] as number) : 0;
      params[9] =
        flags & FRAGMENT_FLAG.SET_LAST_USED && !Number.isNaN(lastUsed)
          ? Math.trunc(lastUsed)
          : null;
      params[10] = flags;
      try {
        stmt.run(params);
      } catch (error) {
        throw rowError(i, error);
      }
    }
    const change = conn.prepare(CHANGE_INSERT);
    for (let i = 0; i < c.fragmentIds.length; i++) {
      const data = c.data[i] as string;
      try {
        change.run([
          c.fragmentIds[i] as string,
          c.kinds[i] as string,
          data === '' ? null : data,
          Math.trunc(c.at[i] as number),
        ]);
      } catch (error) {
        const e = sqliteError(error);
        throw dataError(e.code, `change ${i}: ${e.message}`, { cause: error });
      }
    }
    return n;
  });
}

/**
 * Counts `counts[i]` uses of fragment `ids[i]`, the last at `ats[i]` (never moving the time
 * back); returns the uses counted (of fragments found).
 */
export function recordFragmentUses(
  conn: Connection,
  ids: readonly string[],
  counts: readonly number[],
  ats: readonly number[],
): number {
  conn.ensureOpen();
  checkLen('counts', counts.length, ids.length);
  checkLen('ats', ats.length, ids.length);
  return conn.transaction(() => {
    const stmt = conn.prepare(
      `UPDATE fragments SET use_count = use_count + ?2,
         last_used_at = max(coalesce(last_used_at, ?3), ?3) WHERE id = ?1`,
    );
    let counted = 0;
    ids.forEach((id, i) => {
      const count = counts[i] as number;
      counted += stmt.run([id, count, Math.trunc(ats[i] as number)]).changes * count;
    });
    return counted;
  });
}

/**
 * Inserts the messages and moves each conversation's `updated_at` to its newest message
 * (once per run of rows of one conversation); returns the new message ids.
 */
export function addMessages(conn: Connection, b: MessageColumns): number[] {
  conn.ensureOpen();
  const n = b.conversationIds.length;
  checkLen('roles', b.roles.length, n);
  checkLen('contents', b.contents.length, n);
  checkLen('models', b.models.length, n);
  checkLen('promptTokens', b.promptTokens.length, n);
  checkLen('completionTokens', b.completionTokens.length, n);
  checkLen('metadata', b.metadata.length, n);
  checkLen('timestamps', b.timestamps.length, n);
  return conn.transaction(() => {
    const stmt = conn.prepare(
      `INSERT INTO messages (conversation_id, role, content, model, prompt_tokens,
                   completion_tokens, metadata, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
    );
    const touch = conn.prepare(
      'UPDATE conversations SET updated_at = max(updated_at, ?2) WHERE id = ?1',
    );
    const ids: number[] = new Array(n);
    let last: string | undefined;
    let lastTs = 0;
    for (let i = 0; i < n; i++) {
      const model = b.models[i] as string;
      const ts = Math.trunc(b.timestamps[i] as number);
      const cid = b.conversationIds[i] as string;
      try {
        const r = stmt.run([
          cid,
          b.roles[i] as string,
          b.contents[i] as string,
          model === '' ? null : model,
          Math.trunc(b.promptTokens[i] as number),
          Math.trunc(b.completionTokens[i] as number),
          b.metadata[i] as string,
          ts,
        ]);
        ids[i] = Number(r.lastInsertRowid);
      } catch (error) {
        throw rowError(i, error);
      }
      if (last !== undefined && last !== cid) touch.run([last, lastTs]);
      last = cid;
      lastTs = Math.max(lastTs, ts);
    }
    if (last !== undefined) touch.run([last, lastTs]);
    return ids;
  });
}

/** Inserts the events; returns how many. */
export function addEvents(conn: Connection, b: EventColumns): number {
  conn.ensureOpen();
  const n = b.typeIndex.length;
  checkLen('values', b.values.length, n);
  checkLen('hasData', b.hasData.length, n);
  checkLen('timestamps', b.timestamps.length, n);
  return conn.transaction(() => {
    const stmt = conn.prepare(
      'INSERT INTO events (type, value, data, created_at) VALUES (?1, ?2, ?3, ?4)',
    );
    const params: SqlValue[] = [null, null, null, null];
    for (let i = 0, d = 0; i < n; i++) {
      const value = b.values[i] as number;
      params[0] = b.types[b.typeIndex[i] as number] as string;
      params[1] = Number.isNaN(value) ? null : value;
      params[2] = b.hasData[i] ? (b.data[d++] as string) : null;
      params[3] = Math.trunc(b.timestamps[i] as number);
      try {
        stmt.run(params);
      } catch (error) {
        throw rowError(i, error);
      }
    }
    return n;
  });
}
