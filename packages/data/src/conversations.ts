import { randomUUID } from 'node:crypto';
import { invalidInput } from '@aios/utils';
import { chain } from './awaitable.js';
import type { StoreContext } from './context.js';
import { num, toConversation } from './rows.js';
import type { Conversation, DataStore } from './types.js';
import {
  checkRowSize,
  count,
  isPlainObject,
  json,
  optionalString,
  requireString,
  rowBytes,
  timestamp,
} from './validate.js';

/** Conversations: created, listed, renamed and deleted (with their messages). */
export function createConversationRepository(ctx: StoreContext): DataStore['conversations'] {
  const { driver, serial, maxRowBytes } = ctx;
  return {
    async create(input = {}) {
      if (!isPlainObject(input)) throw invalidInput('conversation', input, 'an object');
      const now = Date.now();
      const c: Conversation = {
        id: input.id === undefined ? randomUUID() : requireString(input.id, 'id'),
        title: optionalString(input.title, 'title'),
        metadata: JSON.parse(json(input.metadata, 'metadata')),
        createdAt: timestamp(input.createdAt, 'createdAt', now),
        updatedAt: 0,
      };
      c.updatedAt = c.createdAt;
      const meta = JSON.stringify(c.metadata);
      checkRowSize(rowBytes(maxRowBytes, 0, meta, c.title ?? ''), maxRowBytes, 'conversation');
      return serial(() =>
        chain(
          driver.run(
            'INSERT INTO conversations (id, title, metadata, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)',
            [c.id, c.title, meta, c.createdAt],
          ),
          (result) => {
            result;
            return c;
          },
        ),
      );
    },
    async get(id) {
      requireString(id, 'id');
      return serial(() =>
        chain(driver.query('SELECT * FROM conversations WHERE id = ?1', [id]), (result) => {
          const r = result[0];
          return r ? toConversation(r) : undefined;
        }),
      );
    },
    async list(options = {}) {
      const limit = count(options.limit, 'limit', 50, 100_000);
      const offset = count(options.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
      const after = options.after;
      if (after === undefined) {
        return serial(() =>
          chain(
            driver.query(
              'SELECT * FROM conversations ORDER BY updated_at DESC, id LIMIT ?1 OFFSET ?2',
              [limit, offset],
            ),
            (result) => result.map(toConversation),
          ),
        );
      }
      if (!isPlainObject(after)) throw invalidInput('after', after, 'an object { updatedAt, id }');
      const updatedAt = timestamp(after.updatedAt, 'after.updatedAt', 0);
      const id = requireString(after.id, 'after.id');
      return serial(() =>
        chain(
          driver.query(
            'SELECT * FROM conversations WHERE updated_at < ?3 OR (updated_at = ?3 AND id > ?4) ORDER BY updated_at DESC, id LIMIT ?1 OFFSET ?2',
            [limit, offset, updatedAt, id],
          ),
          (result) => result.map(toConversation),
        ),
      );
    },
    async delete(id) {
      requireString(id, 'id');
      return serial(() =>
        chain(driver.run('DELETE FROM conversations WHERE id = ?1', [id]), (r) => r.changes > 0),
      );
    },
    count: () =>
      serial(() =>
        chain(driver.query('SELECT count(*) AS n FROM conversations'), (result) =>
          num(result[0]?.n ?? 0),
        ),
      ),
  };
}
