import { randomUUID } from 'node:crypto';
import { type ImplementationReport, invalidInput, SerialQueue } from '@aios/utils';
import type { StoreContext } from './context.js';
import type { SqlDriver, SqlRow } from './driver.js';
import { DataErrorCode, dataError } from './errors.js';
import { snapshotDatabase } from './files.js';
import { createFragmentRepository } from './fragments.js';
import { createMetaRepository } from './meta.js';
import { type AnalyticsQuery, MESSAGES_BY_EXCHANGE } from './sql.js';
import { createTransactions, notInTransaction } from './transaction.js';
import { exportStore, importStore } from './transfer.js';
import type {
  Analytics,
  Conversation,
  DataStore,
  EventsPerDay,
  Feedback,
  FeedbackPerDay,
  FeedbackStats,
  MemoryGrowth,
  Message,
  MessagesPerDay,
  PersonalityState,
  Role,
  StoredEvent,
  TimeRange,
  Timestamp,
  TokensPerDay,
  TokensPerModel,
  TopFragment,
} from './types.js';
import {
  checkRowSize,
  count,
  isPlainObject,
  json,
  nonNegativeInt,
  optionalString,
  parseJson,
  rangeBound,
  requireArray,
  requireString,
  rowBytes,
  timestamp,
} from './validate.js';

const ROLES: readonly Role[] = ['system', 'user', 'assistant', 'tool'];
const MAX_TIME = 8.64e15;

export interface StoreSettings {
  path: string;
  report: ImplementationReport;
  maxRowBytes: number;
  vectorDimension: number | undefined;
  /** Gives up the database's lease once the connection is closed. */
  release?: () => Promise<void>;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toConversation(r: SqlRow): Conversation {
  return {
    id: String(r.id),
    title: strOrNull(r.title),
    metadata: parseJson(r.metadata),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function toMessage(r: SqlRow): Message {
  return {
    id: num(r.id),
    conversationId: String(r.conversation_id),
    role: r.role as Role,
    content: String(r.content),
    model: strOrNull(r.model),
    promptTokens: num(r.prompt_tokens),
    completionTokens: num(r.completion_tokens),
    metadata: parseJson(r.metadata),
    createdAt: num(r.created_at),
  };
}

function toFeedback(r: SqlRow): Feedback {
  return {
    id: num(r.id),
    conversationId: strOrNull(r.conversation_id),
    messageId: numOrNull(r.message_id),
    rating: num(r.rating),
    comment: strOrNull(r.comment),
    metadata: parseJson(r.metadata),
    createdAt: num(r.created_at),
  };
}

function toPersonality(r: SqlRow): PersonalityState {
  return {
    id: num(r.id),
    name: String(r.name),
    state: parseJson(r.state),
    createdAt: num(r.created_at),
  };
}

function toEvent(r: SqlRow): StoredEvent {
  return {
    id: num(r.id),
    type: String(r.type),
    value: numOrNull(r.value),
    data: r.data === null ? null : parseJson(r.data),
    createdAt: num(r.created_at),
  };
}

const stats = (r: SqlRow | undefined): FeedbackStats => ({
  count: num(r?.count ?? 0),
  average: numOrNull(r?.average),
  min: numOrNull(r?.min),
  max: numOrNull(r?.max),
});

/** The one DataStore over SQLite, for both drivers. Calls run one at a time, in order. */
export function createSqliteStore(driver: SqlDriver, settings: StoreSettings): DataStore {
  // One connection, not re-entrant: calls run one at a time, in order; with nothing
  // outstanding a synchronous call runs at once, without a queue hop.
  const queue = new SerialQueue({ immediate: true });
  let closed = false;
  const closedError = () => dataError(DataErrorCode.DATA_CLOSED, 'the store is closed');
  const enqueue = <T>(fn: () => T | Promise<T>): Promise<T> =>
    queue.run(() => {
      if (closed) throw closedError();
      return fn();
    });
  // Calls from inside `store.transaction(fn)` run in that transaction instead.
  const transactions = createTransactions(driver, enqueue);
  const serial = <T>(fn: () => T | Promise<T>): Promise<T> => transactions.join(fn) ?? enqueue(fn);
  const outsideTransaction = (what: string) => {
    if (transactions.inside()) throw notInTransaction(what);
  };
  const { maxRowBytes } = settings;

  const readDimension = (): number | undefined => {
    const row = driver.query("SELECT value FROM meta WHERE key = 'vector_dimension'")[0];
    return row ? Number(row.value) : undefined;
  };
  const ctx: StoreContext = {
    driver,
    serial,
    busy: () => queue.pending > 0,
    maxRowBytes,
    dimension: readDimension(),
    readDimension,
  };
  if (settings.vectorDimension !== undefined) {
    if (ctx.dimension === undefined) {
      driver.run("INSERT INTO meta (key, value) VALUES ('vector_dimension', ?1)", [
        String(settings.vectorDimension),
      ]);
      ctx.dimension = settings.vectorDimension;
    } else if (ctx.dimension !== settings.vectorDimension) {
      driver.close();
      throw dataError(
        DataErrorCode.DATA_DIMENSION_MISMATCH,
        `${settings.path} stores ${ctx.dimension}-dimensional vectors, not ${settings.vectorDimension}`,
        { details: { expected: settings.vectorDimension, stored: ctx.dimension } },
      );
    }
  }

  const analytics = async <T>(
    name: AnalyticsQuery,
    range: TimeRange & { type?: string } = {},
    limit = 0,
    map: (r: SqlRow) => T,
  ): Promise<T[]> => {
    if (!isPlainObject(range)) throw invalidInput('range', range, 'an object { from?, to? }');
    const from = rangeBound(range.from as Timestamp | undefined, 'range.from', -MAX_TIME);
    const to = rangeBound(range.to as Timestamp | undefined, 'range.to', MAX_TIME);
    const type = range.type === undefined ? null : requireString(range.type, 'type');
    return serial(async () => (await driver.analytics(name, { from, to, limit, type })).map(map));
  };

  const store: DataStore = {
    implementation: settings.report.implementation,
    report: settings.report,
    path: settings.path,

    fragments: createFragmentRepository(ctx),
    meta: createMetaRepository(ctx),

    conversations: {
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
        return serial(() => {
          driver.run(
            'INSERT INTO conversations (id, title, metadata, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)',
            [c.id, c.title, meta, c.createdAt],
          );
          return c;
        });
      },
      async get(id) {
        requireString(id, 'id');
        return serial(() => {
          const r = driver.query('SELECT * FROM conversations WHERE id = ?1', [id])[0];
          return r ? toConversation(r) : undefined;
        });
      },
      async list(options = {}) {
        const limit = count(options.limit, 'limit', 50, 100_000);
        const offset = count(options.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
        return serial(() =>
          driver
            .query('SELECT * FROM conversations ORDER BY updated_at DESC, id LIMIT ?1 OFFSET ?2', [
              limit,
              offset,
            ])
            .map(toConversation),
        );
      },
      async delete(id) {
        requireString(id, 'id');
        return serial(
          () => driver.run('DELETE FROM conversations WHERE id = ?1', [id]).changes > 0,
        );
      },
      count: () =>
        serial(() => num(driver.query('SELECT count(*) AS n FROM conversations')[0]?.n ?? 0)),
    },

    messages: {
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
          driver
            .query(
              'SELECT * FROM messages WHERE conversation_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3',
              [conversationId, after, limit],
            )
            .map(toMessage),
        );
      },
      async byExchange(exchangeId) {
        requireString(exchangeId, 'exchangeId');
        return serial(() => driver.query(MESSAGES_BY_EXCHANGE, [exchangeId]).map(toMessage));
      },
      count: () => serial(() => num(driver.query('SELECT count(*) AS n FROM messages')[0]?.n ?? 0)),
    },

    feedback: {
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
        return serial(() => {
          const first = num(
            driver.query('SELECT coalesce(max(id), 0) AS n FROM feedback')[0]?.n ?? 0,
          );
          driver.runBatch(
            'INSERT INTO feedback (conversation_id, message_id, rating, comment, metadata, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)',
            rows,
          );
          return rows.map((_, i) => first + i + 1);
        });
      },
      async list(options = {}) {
        const limit = count(options.limit, 'limit', 100, 1_000_000);
        return serial(() =>
          driver.query('SELECT * FROM feedback ORDER BY id DESC LIMIT ?1', [limit]).map(toFeedback),
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
    },

    personality: {
      async save(name, state, at) {
        requireString(name, 'name');
        const text = json(state, 'state');
        if (state === undefined) throw invalidInput('state', state, 'a plain JSON object');
        checkRowSize(rowBytes(maxRowBytes, 0, text), maxRowBytes, 'state');
        const createdAt = timestamp(at, 'at', Date.now());
        return serial(() => {
          const r = driver.run(
            'INSERT INTO personality_states (name, state, created_at) VALUES (?1, ?2, ?3)',
            [name, text, createdAt],
          );
          return { id: r.lastInsertRowid, name, state: JSON.parse(text), createdAt };
        });
      },
      async latest(name) {
        requireString(name, 'name');
        return serial(() => {
          const r = driver.query(
            'SELECT * FROM personality_states WHERE name = ?1 ORDER BY id DESC LIMIT 1',
            [name],
          )[0];
          return r ? toPersonality(r) : undefined;
        });
      },
      async history(name, options = {}) {
        requireString(name, 'name');
        const limit = count(options.limit, 'limit', 100, 1_000_000);
        return serial(() =>
          driver
            .query('SELECT * FROM personality_states WHERE name = ?1 ORDER BY id DESC LIMIT ?2', [
              name,
              limit,
            ])
            .map(toPersonality),
        );
      },
    },

    events: {
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
          driver
            .query(
              'SELECT * FROM events WHERE created_at >= ?1 AND created_at < ?2 AND (?3 IS NULL OR type = ?3) ORDER BY created_at DESC, id DESC LIMIT ?4',
              [from, to, type, limit],
            )
            .map(toEvent),
        );
      },
      count: () => serial(() => num(driver.query('SELECT count(*) AS n FROM events')[0]?.n ?? 0)),
    },

    analytics: {
      messagesPerDay: (range) =>
        analytics<MessagesPerDay>('messagesPerDay', range, 0, (r) => ({
          day: String(r.day),
          messages: num(r.messages),
          conversations: num(r.conversations),
        })),
      tokensPerDay: (range) =>
        analytics<TokensPerDay>('tokensPerDay', range, 0, (r) => ({
          day: String(r.day),
          model: strOrNull(r.model),
          messages: num(r.messages),
          promptTokens: num(r.prompt_tokens),
          completionTokens: num(r.completion_tokens),
          totalTokens: num(r.total_tokens),
        })),
      tokensPerModel: (range) =>
        analytics<TokensPerModel>('tokensPerModel', range, 0, (r) => ({
          model: strOrNull(r.model),
          messages: num(r.messages),
          promptTokens: num(r.prompt_tokens),
          completionTokens: num(r.completion_tokens),
          totalTokens: num(r.total_tokens),
        })),
      memoryGrowth: (range) =>
        analytics<MemoryGrowth>('memoryGrowth', range, 0, (r) => ({
          day: String(r.day),
          added: num(r.added),
          total: num(r.total),
        })),
      topFragments: (limit) =>
        analytics<TopFragment>('topFragments', {}, count(limit, 'limit', 10, 10_000), (r) => ({
          id: String(r.id),
          preview: String(r.preview),
          useCount: num(r.use_count),
          lastUsedAt: numOrNull(r.last_used_at),
        })),
      feedbackSummary: async (range) =>
        stats((await analytics('feedbackSummary', range, 0, (r) => r))[0]),
      feedbackPerDay: (range) =>
        analytics<FeedbackPerDay>('feedbackPerDay', range, 0, (r) => ({
          day: String(r.day),
          ...stats(r),
        })),
      eventsPerDay: (options) =>
        analytics<EventsPerDay>('eventsPerDay', options, 0, (r) => ({
          day: String(r.day),
          type: String(r.type),
          count: num(r.count),
          sum: numOrNull(r.sum),
          average: numOrNull(r.average),
          min: numOrNull(r.min),
          max: numOrNull(r.max),
        })),
    } satisfies Analytics,

    schemaVersion: () => serial(() => driver.schemaVersion()),
    async exportTo(path, options = {}) {
      requireString(path, 'path');
      return serial(() => exportStore(driver, path, options.format));
    },
    async importFrom(path, options = {}) {
      requireString(path, 'path');
      outsideTransaction('importFrom');
      return serial(async () => {
        const summary = await importStore(driver, path, options);
        ctx.dimension = readDimension();
        return summary;
      });
    },
    async snapshotTo(path) {
      requireString(path, 'path');
      outsideTransaction('snapshotTo');
      if (store.path === ':memory:') {
        throw invalidInput('path', store.path, 'a store in a file (this one is in memory)');
      }
      return serial(() => snapshotDatabase((sql) => driver.exec(sql), path));
    },
    integrityCheck: () => serial(() => driver.integrityCheck()),
    transaction: (fn) => transactions.run(store, fn),
    inTransaction: () => transactions.inside(),
    async close() {
      outsideTransaction('close');
      if (closed) return;
      try {
        await serial(() => {
          closed = true;
          driver.close();
        });
      } finally {
        await settings.release?.();
      }
    },
  };
  return store;
}
