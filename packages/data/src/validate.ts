import { integerInRange, invalidInput, nonNegativeInteger } from '@aios/utils';
import { DataErrorCode, dataError } from './errors.js';
import type { JsonObject, Timestamp } from './types.js';

export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function requireArray<T>(value: unknown, field: string): readonly T[] {
  if (!Array.isArray(value)) throw invalidInput(field, value, 'an array');
  return value as readonly T[];
}

export function requireString(value: unknown, field: string, options: { empty?: boolean } = {}) {
  if (typeof value !== 'string' || (!options.empty && value === '')) {
    throw invalidInput(field, value, options.empty ? 'a string' : 'a non-empty string');
  }
  return value;
}

export function optionalString(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  return requireString(value, field, { empty: true });
}

/** Integer milliseconds since the epoch (a Date or a number); `now` when absent. */
export function timestamp(value: unknown, field: string, now: number): number {
  if (value === undefined) return now;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) {
    throw invalidInput(field, value, 'a Date or integer milliseconds since the epoch');
  }
  return ms;
}

export function rangeBound(value: Timestamp | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  return timestamp(value, field, fallback);
}

export function count(value: unknown, field: string, fallback: number, max = 1_000_000): number {
  if (value === undefined) return fallback;
  return integerInRange(value, field, 0, max);
}

export function nonNegativeInt(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0;
  return nonNegativeInteger(value, field);
}

/** JSON text of a plain object (`{}` when absent). */
export function json(value: unknown, field: string): string {
  if (value === undefined) return '{}';
  if (!isPlainObject(value)) throw invalidInput(field, value, 'a plain JSON object');
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw invalidInput(field, value, `JSON-serialisable data (${(error as Error).message})`);
  }
}

export function parseJson(text: unknown): JsonObject {
  if (typeof text !== 'string') return {};
  if (text === '{}') return {}; // most metadata: no parse
  const value = JSON.parse(text) as unknown;
  return isPlainObject(value) ? value : {};
}

/**
 * Size of a row: `extra` bytes plus the UTF-8 size of `texts`. The exact UTF-8 count is
 * only taken when it could matter: a UTF-16 code unit is at most 3 UTF-8 bytes, so below
 * that bound the (smaller) character count already tells that the row fits in `max`.
 */
export function rowBytes(max: number, extra: number, ...texts: string[]): number {
  let chars = 0;
  for (const t of texts) chars += t.length;
  if (chars * 3 + extra <= max) return chars + extra;
  let bytes = extra;
  for (const t of texts) bytes += Buffer.byteLength(t, 'utf8');
  return bytes;
}

export function checkRowSize(bytes: number, max: number, field: string): void {
  if (bytes > max) {
    throw dataError(
      DataErrorCode.DATA_ROW_TOO_LARGE,
      `${field}: the row is ${bytes} bytes, more than maxRowBytes (${max})`,
      { details: { field, bytes, max } },
    );
  }
}

/**
 * Checks a vector's type, dimension and (unless `values` is false) that every component is
 * finite; names the item and index at fault.
 */
export function checkVector(
  value: unknown,
  field: string,
  dimension: number | undefined,
  values = true,
) {
  if (!(value instanceof Float32Array)) throw invalidInput(field, value, 'a Float32Array');
  if (value.length === 0) throw invalidInput(field, value, 'a non-empty Float32Array');
  if (dimension !== undefined && value.length !== dimension) {
    throw dataError(
      DataErrorCode.DATA_DIMENSION_MISMATCH,
      `${field}: expected ${dimension} dimensions (the store's), got ${value.length}`,
      { details: { field, expected: dimension, got: value.length } },
    );
  }
  if (!values) return value;
  for (let i = 0; i < value.length; i++) {
    if (!Number.isFinite(value[i])) {
      throw invalidInput(`${field}[${i}]`, value[i], 'a finite number');
    }
  }
  return value;
}

/** Longest fragment namespace, in UTF-16 code units. */
export const MAX_NAMESPACE_LENGTH = 256;
/** Longest history kind and meta key. */
export const MAX_NAME_LENGTH = 256;

/** A fragment namespace: a non-empty string of at most 256 characters; `fallback` when absent. */
export function namespaceName(value: unknown, field: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAMESPACE_LENGTH) {
    throw invalidInput(
      field,
      value,
      `a non-empty string of at most ${MAX_NAMESPACE_LENGTH} characters`,
    );
  }
  return value;
}

/** A history entry, validated: kind, data JSON text ('' for none), time. */
export function changeInput(
  value: unknown,
  field: string,
  now: number,
): { kind: string; data: string; at: number } {
  if (!isPlainObject(value))
    throw invalidInput(field, value, 'a change object { kind, data?, at? }');
  const kind = value.kind;
  if (typeof kind !== 'string' || kind === '' || kind.length > MAX_NAME_LENGTH) {
    throw invalidInput(
      `${field}.kind`,
      kind,
      `a non-empty string of at most ${MAX_NAME_LENGTH} characters`,
    );
  }
  const data =
    value.data === undefined || value.data === null ? '' : json(value.data, `${field}.data`);
  return { kind, data, at: timestamp(value.at, `${field}.at`, now) };
}

/** JSON text of any JSON value (objects, arrays, strings, finite numbers, booleans, null). */
export function jsonValue(value: unknown, field: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`${v} is not JSON`);
      if (typeof v === 'bigint') throw new Error('a bigint is not JSON');
      return v;
    });
  } catch (error) {
    throw invalidInput(field, value, `JSON-serialisable data (${(error as Error).message})`);
  }
  if (text === undefined) throw invalidInput(field, value, 'a JSON value');
  return text;
}
