import { AiosError, describeValue } from '@aios/utils';
import { CarmaErrorCode } from './errors.js';
import type { FragmentRecord, MetadataValue } from './fragment-store.js';

type Scalar = string | number | boolean | null;

/** A condition on one field: a value (equality) or operators. */
export type Condition =
  | Scalar
  | {
      $eq?: Scalar;
      $ne?: Scalar;
      $gt?: number | string;
      $gte?: number | string;
      $lt?: number | string;
      $lte?: number | string;
      $in?: Scalar[];
      $nin?: Scalar[];
      $exists?: boolean;
    };

/**
 * Every condition must hold. Keys `importance`, `createdAt`, `updatedAt`, `accessedAt`,
 * `core`, `namespace` and `id` name fragment fields; `metadata.<key>` or any other key
 * names a metadata field. A metadata array matches equality and `$in` when any element does.
 */
export type Filter = Record<string, Condition>;

const FIELDS = new Set([
  'importance',
  'createdAt',
  'updatedAt',
  'accessedAt',
  'core',
  'namespace',
  'id',
]);
const OPS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists']);
/** Fields that hold times (milliseconds since 1970), which the API shows as ISO 8601 dates. */
const TIMES = new Set(['createdAt', 'updatedAt', 'accessedAt']);

/**
 * A bound on a time field as milliseconds: a number as it is, a date as the API writes it
 * (`2026-01-01T00:00:00Z`, or a day, `2026-01-01`) parsed. A string compared with a number
 * matches nothing, so a date left unparsed would silently filter out every fragment.
 */
function timeBound(op: string, arg: number | string, key: string): number {
  if (typeof arg === 'number') return arg;
  const at = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(arg)
    ? Date.parse(arg)
    : Number.NaN;
  if (!Number.isFinite(at)) {
    throw bad(
      `${op} expects a time: milliseconds since 1970 or an ISO 8601 date such as 2026-01-31T12:00:00Z, got ${JSON.stringify(arg)}`,
      key,
    );
  }
  return at;
}

function bad(message: string, field?: string): AiosError {
  return new AiosError(
    CarmaErrorCode.INVALID_FILTER,
    `filter${field ? `.${field}` : ''}: ${message}`,
    {
      details: field ? { field } : {},
    },
  );
}

function isScalar(v: unknown): v is Scalar {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

type Raw = MetadataValue | undefined;

/** Whether `test` holds for the value or, for an array, for any element (no allocation). */
function some(v: Raw, test: (x: Scalar) => boolean): boolean {
  if (v === undefined) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (test(x)) return true;
    return false;
  }
  return test(v);
}

function exists(v: Raw): boolean {
  return v !== undefined && !(Array.isArray(v) && v.length === 0);
}

function compare(a: Scalar, b: number | string): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

export type Predicate = (f: FragmentRecord) => boolean;

/** Validates a filter and compiles it to a predicate; INVALID_FILTER names what is wrong. */
export function compileFilter(filter: unknown): Predicate | undefined {
  if (filter === undefined) return undefined;
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw bad(`expected an object of field conditions, got ${describeValue(filter)}`);
  }
  const tests: Predicate[] = [];
  for (const [key, cond] of Object.entries(filter as Record<string, unknown>)) {
    if (key === '') throw bad('empty field name');
    const isField = FIELDS.has(key);
    const metaKey = key.startsWith('metadata.') ? key.slice('metadata.'.length) : key;
    const get = isField
      ? (f: FragmentRecord): Raw => (f as unknown as Record<string, MetadataValue>)[key]
      : (f: FragmentRecord): Raw => f.metadata[metaKey];
    const checks: Array<(v: Raw) => boolean> = [];
    if (isScalar(cond)) {
      checks.push((v) => some(v, (x) => x === cond));
    } else if (typeof cond === 'object' && !Array.isArray(cond)) {
      const ops = Object.entries(cond as Record<string, unknown>);
      if (ops.length === 0) throw bad('expected a value or at least one operator', key);
      for (const [op, arg] of ops) {
        if (!OPS.has(op)) {
          throw bad(`unknown operator ${JSON.stringify(op)} (known: ${[...OPS].join(', ')})`, key);
        }
        switch (op) {
          case '$eq':
          case '$ne': {
            if (!isScalar(arg)) throw bad(`${op} expects a string, number, boolean or null`, key);
            checks.push(
              op === '$eq' ? (v) => some(v, (x) => x === arg) : (v) => !some(v, (x) => x === arg),
            );
            break;
          }
          case '$gt':
          case '$gte':
          case '$lt':
          case '$lte': {
            if (!((typeof arg === 'number' && Number.isFinite(arg)) || typeof arg === 'string')) {
              throw bad(
                `${op} expects a finite number or a string, got ${describeValue(arg)}`,
                key,
              );
            }
            const ok = (c: number) =>
              op === '$gt' ? c > 0 : op === '$gte' ? c >= 0 : op === '$lt' ? c < 0 : c <= 0;
            const bound = TIMES.has(key) ? timeBound(op, arg, key) : arg;
            checks.push((v) =>
              some(v, (x) => {
                const c = compare(x, bound);
                return c !== undefined && ok(c);
              }),
            );
            break;
          }
          case '$in':
          case '$nin': {
            if (!Array.isArray(arg) || !arg.every(isScalar)) {
              throw bad(`${op} expects an array of strings, numbers, booleans or null`, key);
            }
            const set = new Set<Scalar>(arg);
            checks.push(
              op === '$in' ? (v) => some(v, (x) => set.has(x)) : (v) => !some(v, (x) => set.has(x)),
            );
            break;
          }
          case '$exists': {
            if (typeof arg !== 'boolean') throw bad('$exists expects true or false', key);
            checks.push((v) => exists(v) === arg);
            break;
          }
        }
      }
    } else {
      throw bad(`expected a value or an object of operators, got ${describeValue(cond)}`, key);
    }
    tests.push((f) => {
      const v = get(f);
      for (const c of checks) if (!c(v)) return false;
      return true;
    });
  }
  return (f) => {
    for (const t of tests) if (!t(f)) return false;
    return true;
  };
}
