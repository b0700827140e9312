import { invalidInput } from '@aios/utils';
import { chain, type Steps } from './awaitable.js';
import { atomically, type StoreContext } from './context.js';
import type { SqlRow, SqlValue } from './driver.js';
import { num, toFeedback } from './rows.js';
import type { DataStore } from './types.js';
import {
  checkRowSize,
  count,
  isPlainObject,
  json,
  nonNegativeInt,
  optionalString,
  requireArray,
  rowBytes,
  timestamp,
} from './validate.js';

/** Ratings of answers and their summary. */
export function createFeedbackRepository(ctx: StoreContext): DataStore['feedback'] {
  const { driver, serial, maxRowBytes } = ctx;
  /** Inserts row by row, each telling the id it got. */
  function* insertReturning(insert: string, rows: unknown[][]): Steps<number[]> {
    const ids: number[] = [];
    for (const row of rows) {
      const returned: SqlRow[] = yield driver.query(`${insert} RETURNING id`, row as SqlValue[]);
      ids.push(num(returned[0]?.id));
    }
    return ids;
  }
  return {
    async add(feedback) {
      const list = requireArray<Record<string, unknown>>(feedback, 'feedback');
      const now = Date.now();
      const rows = list.map((f, i) => {
        const at = `feedback[${i}]`;
        if (!isPlainObject(f)) throw invalidInput(at, f, 'a feedback object { rating, ... }');
        const rating = f.rating;
        if (typeof rating !== 'number' || !Number.isFinite(rating) || rating < 1 || rating > 5) {
          throw invalidInput(`${at}.rating`, rating, 'a number from 1 to 5');
        }
        const messageId =
          f.messageId === undefined || f.messageId === null
            ? null
            : nonNegativeInt(f.messageId, `${at}.messageId`);
        const comment = optionalString(f.comment, `${at}.comment`);
        const meta = json(f.metadata, `${at}.metadata`);
        checkRowSize(rowBytes(maxRowBytes, 0, comment ?? '', meta), maxRowBytes, at);
        return [
          optionalString(f.conversationId, `${at}.conversationId`),
          messageId,
          rating,
          comment,
          meta,
          timestamp(f.createdAt, `${at}.createdAt`, now),
        ];
      });
      const insert =
        'INSERT INTO feedback (conversation_id, message_id, rating, comment, metadata, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)';
      if (ctx.sql.returningIds) {
        // Other connections take ids at the same time: each row says which it got.
        return serial(() => atomically(driver, () => insertReturning(insert, rows)));
      }
      return serial(() =>
        chain(driver.query('SELECT coalesce(max(id), 0) AS n FROM feedback'), (found) => {
          const first = num(found[0]?.n ?? 0);
          return chain(driver.runBatch(insert, rows), () => rows.map((_, i) => first + i + 1));
        }),
      );
    },
    async list(options = {}) {
      const limit = count(options.limit, 'limit', 100, 1_000_000);
      return serial(() =>
        chain(driver.query('SELECT * FROM feedback ORDER BY id DESC LIMIT ?1', [limit]), (result) =>
          result.map(toFeedback),
        ),
      );
    },
    async delete(ids) {
      const list = requireArray<unknown>(ids, 'ids').map((id, i) => {
        if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
          throw invalidInput(`ids[${i}]`, id, 'a feedback id (a positive integer)');
        }
        return id;
      });
      if (list.length === 0) return 0;
      return serial(() =>
        driver.runBatch(
          'DELETE FROM feedback WHERE id = ?1',
          list.map((id) => [id]),
        ),
      );
    },
  };
}
