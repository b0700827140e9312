import { invalidInput } from '@aios/utils';
import { chain, drive, type Steps } from './awaitable.js';
import type { StoreContext } from './context.js';
import type { SqlDriver } from './driver.js';
import type { JsonValue, MetaRepository } from './types.js';
import { checkRowSize, isPlainObject, jsonValue, MAX_NAME_LENGTH, rowBytes } from './validate.js';

/** Keys the store keeps for itself in `meta`; `data.` is kept free for more of them. */
export const RESERVED_META_KEYS: readonly string[] = ['vector_dimension'];
const RESERVED_PREFIX = 'data.';

const UPSERT =
  'INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value';

export function metaKey(key: unknown, field = 'key'): string {
  if (typeof key !== 'string' || key === '' || key.length > MAX_NAME_LENGTH) {
    throw invalidInput(field, key, `a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  }
  if (RESERVED_META_KEYS.includes(key) || key.startsWith(RESERVED_PREFIX)) {
    throw invalidInput(
      field,
      key,
      `a key the store does not use itself (not ${RESERVED_META_KEYS.join(', ')} or ${RESERVED_PREFIX}*)`,
    );
  }
  return key;
}

/** Validated `[key, JSON text]` pairs of an owner-state record (`undefined`: none). */
export function metaEntries(
  value: unknown,
  field: string,
  maxRowBytes: number,
): Array<[string, string]> {
  if (value === undefined) return [];
  if (!isPlainObject(value)) throw invalidInput(field, value, 'an object of JSON values by key');
  return Object.entries(value).map(([key, v]) => {
    const text = jsonValue(v, `${field}.${metaKey(key, `${field} key`)}`);
    checkRowSize(rowBytes(maxRowBytes, 0, key, text), maxRowBytes, `${field}.${key}`);
    return [key, text];
  });
}

/** Writes owner state; the caller provides the transaction (see `atomically`). */
export function* writeMeta(
  driver: SqlDriver,
  entries: ReadonlyArray<[string, string]>,
): Steps<void> {
  for (const [key, text] of entries) yield driver.run(UPSERT, [key, text]);
}

export function createMetaRepository(ctx: StoreContext): MetaRepository {
  const { driver, serial, maxRowBytes } = ctx;
  return {
    async get(key) {
      metaKey(key);
      return serial(() =>
        chain(driver.query('SELECT value FROM meta WHERE key = ?1', [key]), (result) => {
          const row = result[0];
          return row === undefined ? undefined : (JSON.parse(String(row.value)) as JsonValue);
        }),
      );
    },
    async set(key, value) {
      metaKey(key);
      const text = jsonValue(value, 'value');
      checkRowSize(rowBytes(maxRowBytes, 0, key, text), maxRowBytes, 'value');
      return serial(() => drive(writeMeta(driver, [[key, text]])));
    },
    async setIfAbsent(key, value) {
      metaKey(key);
      const text = jsonValue(value, 'value');
      checkRowSize(rowBytes(maxRowBytes, 0, key, text), maxRowBytes, 'value');
      return serial(() =>
        chain(
          driver.run('INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING', [
            key,
            text,
          ]),
          (r) => r.changes > 0,
        ),
      );
    },
    async delete(key) {
      metaKey(key);
      return serial(() =>
        chain(driver.run('DELETE FROM meta WHERE key = ?1', [key]), (r) => r.changes > 0),
      );
    },
  };
}
