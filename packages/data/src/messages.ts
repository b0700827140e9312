import { invalidInput } from '@aios/utils';
import { chain } from './awaitable.js';
import type { StoreContext } from './context.js';
import { num, ROLES, toMessage } from './rows.js';
import type { DataStore, Role } from './types.js';
import {
  checkRowSize,
  count,
  isPlainObject,
  json,
  nonNegativeInt,
  optionalString,
  requireArray,
  requireString,
  rowBytes,
  timestamp,
} from './validate.js';

/** Messages of conversations, appended in batches and read back in order. */
export function createMessageRepository(ctx: StoreContext): DataStore['messages'] {
  const { driver, serial, maxRowBytes } = ctx;
  return {
    async add(messages) {
      const list = requireArray<Record<string, unknown>>(messages, 'messages');
      const n = list.length;
      const now = Date.now();
      const cols = {
        conversationIds: new Array<string>(n),
        roles: new Array<string>(n),
        contents: new Array<string>(n),
        models: new Array<string>(n),
        promptTokens: new Float64Array(n),
        completionTokens: new Float64Array(n),
        metadata: new Array<string>(n),
        timestamps: new Float64Array(n),
      };
      for (let i = 0; i < n; i++) {
        const m = list[i];
        const at = `messages[${i}]`;
        if (!isPlainObject(m)) throw invalidInput(at, m, 'a message object');
        cols.conversationIds[i] = requireString(m.conversationId, `${at}.conversationId`);
        if (!ROLES.includes(m.role as Role)) {
          throw invalidInput(`${at}.role`, m.role, `one of ${ROLES.join(', ')}`);
        }
        cols.roles[i] = m.role as string;
        cols.contents[i] = requireString(m.content, `${at}.content`, { empty: true });
        const model = optionalString(m.model, `${at}.model`);
        if (model === '') throw invalidInput(`${at}.model`, model, 'a non-empty string or null');
        cols.models[i] = model ?? '';
        cols.promptTokens[i] = nonNegativeInt(m.promptTokens, `${at}.promptTokens`);
        cols.completionTokens[i] = nonNegativeInt(m.completionTokens, `${at}.completionTokens`);
        cols.metadata[i] = json(m.metadata, `${at}.metadata`);
        cols.timestamps[i] = timestamp(m.createdAt, `${at}.createdAt`, now);
        checkRowSize(
          rowBytes(maxRowBytes, 0, cols.contents[i] as string, cols.metadata[i] as string),
          maxRowBytes,
          at,
        );
      }
      return serial(() => driver.addMessages(cols));
    },
    async list(conversationId, options = {}) {
      requireString(conversationId, 'conversationId');
      const limit = count(options.limit, 'limit', 1000, 1_000_000);
      const after = count(options.afterId, 'afterId', 0, Number.MAX_SAFE_INTEGER);
      return serial(() =>
        chain(
          driver.query(
            'SELECT * FROM messages WHERE conversation_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3',
            [conversationId, after, limit],
          ),
          (result) => result.map(toMessage),
        ),
      );
    },
    async byExchange(exchangeId) {
      requireString(exchangeId, 'exchangeId');
      return serial(() =>
        chain(driver.query(ctx.sql.messagesByExchange, [exchangeId]), (result) =>
          result.map(toMessage),
        ),
      );
    },
    count: () =>
      serial(() =>
        chain(driver.query('SELECT count(*) AS n FROM messages'), (result) =>
          num(result[0]?.n ?? 0),
        ),
      ),
  };
}
