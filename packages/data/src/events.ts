import { invalidInput } from '@aios/utils';
import { chain } from './awaitable.js';
import type { StoreContext } from './context.js';
import { MAX_TIME, num, toEvent } from './rows.js';
import type { DataStore } from './types.js';
import {
  checkRowSize,
  count,
  isPlainObject,
  json,
  rangeBound,
  requireArray,
  requireString,
  rowBytes,
  timestamp,
} from './validate.js';

/** Events of the system (typed, with optional data), appended and queried by time. */
export function createEventRepository(ctx: StoreContext): DataStore['events'] {
  const { driver, serial, maxRowBytes } = ctx;
  return {
    async add(events) {
      const list = requireArray<Record<string, unknown>>(events, 'events');
      const n = list.length;
      const now = Date.now();
      // Types repeat within a batch: each distinct one is passed once, rows by index.
      const typeIds = new Map<string, number>();
      const cols = {
        types: [] as string[],
        typeIndex: new Uint32Array(n),
        values: new Float64Array(n),
        hasData: new Uint8Array(n),
        data: [] as string[],
        timestamps: new Float64Array(n),
      };
      for (let i = 0; i < n; i++) {
        const e = list[i];
        if (!isPlainObject(e))
          throw invalidInput(`events[${i}]`, e, 'an event object { type, ... }');
        const type = e.type;
        if (typeof type !== 'string' || type === '') {
          throw invalidInput(`events[${i}].type`, type, 'a non-empty string');
        }
        let t = typeIds.get(type);
        if (t === undefined) {
          t = cols.types.length;
          cols.types.push(type);
          typeIds.set(type, t);
        }
        cols.typeIndex[i] = t;
        const value = e.value;
        if (value === undefined || value === null) cols.values[i] = Number.NaN;
        else if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw invalidInput(`events[${i}].value`, value, 'a finite number or null');
        } else cols.values[i] = value;
        let data = '';
        if (e.data !== undefined && e.data !== null) {
          data = json(e.data, `events[${i}].data`);
          cols.hasData[i] = 1;
          cols.data.push(data);
        }
        const at = e.createdAt;
        cols.timestamps[i] =
          typeof at === 'number' && Number.isSafeInteger(at)
            ? at
            : timestamp(at, `events[${i}].createdAt`, now);
        if ((data.length + type.length) * 3 > maxRowBytes) {
          checkRowSize(rowBytes(maxRowBytes, 0, data, type), maxRowBytes, `events[${i}]`);
        }
      }
      return serial(() => driver.addEvents(cols));
    },
    async list(options = {}) {
      const limit = count(options.limit, 'limit', 100, 1_000_000);
      const from = rangeBound(options.from, 'from', -MAX_TIME);
      const to = rangeBound(options.to, 'to', MAX_TIME);
      const type = options.type === undefined ? null : requireString(options.type, 'type');
      return serial(() =>
        chain(
          driver.query(
            'SELECT * FROM events WHERE created_at >= ?1 AND created_at < ?2 AND (CAST(?3 AS TEXT) IS NULL OR type = ?3) ORDER BY created_at DESC, id DESC LIMIT ?4',
            [from, to, type, limit],
          ),
          (result) => result.map(toEvent),
        ),
      );
    },
    count: () =>
      serial(() =>
        chain(driver.query('SELECT count(*) AS n FROM events'), (result) => num(result[0]?.n ?? 0)),
      ),
  };
}
