/**
 * Numbers handed out from a counter in `meta`, read and advanced inside the transaction
 * of the write that uses them: SQLite lets one writer at a time into a write transaction
 * (across processes too), and on PostgreSQL the transaction holds the `numbering` lock
 * (see `WriteLock`), so no two writers ever get the same number.
 */
import { invalidInput } from '@aios/utils';
import type { Steps } from './awaitable.js';
import type { SqlDriver, SqlRow } from './driver.js';
import { DataErrorCode, dataError } from './errors.js';
import { metaKey } from './meta.js';
import type { JsonObject, Numbering } from './types.js';
import { isPlainObject } from './validate.js';

export function numberingOptions(value: unknown): Required<Numbering> {
  if (!isPlainObject(value)) {
    throw invalidInput('options.numbering', value, 'an object { counter, attribute, floor? }');
  }
  const counter = metaKey(value.counter, 'options.numbering.counter');
  const attribute = value.attribute;
  if (typeof attribute !== 'string' || attribute === '') {
    throw invalidInput('options.numbering.attribute', attribute, 'a non-empty string');
  }
  const floor = value.floor ?? 0;
  if (typeof floor !== 'number' || !Number.isSafeInteger(floor) || floor < 0) {
    throw invalidInput('options.numbering.floor', floor, 'a non-negative integer');
  }
  return { counter, attribute, floor };
}

/** The attributes without `key` (numbered rows get theirs from the counter). */
export function withoutKey(attributes: unknown, key: string): unknown {
  if (!isPlainObject(attributes) || !(key in attributes)) return attributes;
  const { [key]: _dropped, ...rest } = attributes as JsonObject;
  return rest;
}

/**
 * Takes `count` numbers from the counter (not below `floor`) and returns the first. The
 * caller runs this inside the write transaction.
 */
export function* takeNumbers(
  driver: SqlDriver,
  numbering: Required<Numbering>,
  count: number,
): Steps<number> {
  const locking = driver.dialect.lock('numbering');
  if (locking !== null) yield driver.query(locking);
  const rows: SqlRow[] = yield driver.query('SELECT value FROM meta WHERE key = ?1', [
    numbering.counter,
  ]);
  const row = rows[0];
  let stored = 0;
  if (row) {
    stored = Number(row.value);
    if (!Number.isSafeInteger(stored) || stored < 0) {
      throw dataError(
        DataErrorCode.DATA_CORRUPT,
        `meta ${JSON.stringify(numbering.counter)} is not a counter: ${String(row.value)}`,
        { details: { key: numbering.counter } },
      );
    }
  }
  const first = Math.max(stored, numbering.floor);
  yield driver.run(
    'INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    [numbering.counter, String(first + count)],
  );
  return first;
}

/** Puts `first + i` into row i's attributes JSON (kept without that key) as `attribute`. */
export function numberRows(attributes: string[], attribute: string, first: number): void {
  const key = JSON.stringify(attribute);
  for (let i = 0; i < attributes.length; i++) {
    const rest = attributes[i] as string;
    attributes[i] =
      rest === '{}' ? `{${key}:${first + i}}` : `{${key}:${first + i},${rest.slice(1)}`;
  }
}
