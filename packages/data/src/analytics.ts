import { invalidInput } from '@aios/utils';
import { chain } from './awaitable.js';
import type { StoreContext } from './context.js';
import type { SqlRow } from './driver.js';
import { MAX_TIME, num, numOrNull, stats, strOrNull } from './rows.js';
import type { AnalyticsQuery } from './sql.js';
import type {
  Analytics,
  DataStore,
  EventsPerDay,
  FeedbackPerDay,
  MemoryGrowth,
  MessagesPerDay,
  TimeRange,
  Timestamp,
  TokensPerDay,
  TokensPerModel,
  TopFragment,
} from './types.js';

import { count, isPlainObject, rangeBound, requireString } from './validate.js';

/** Aggregates over messages, tokens, memory and feedback, per day or per model. */
export function createAnalyticsRepository(ctx: StoreContext): DataStore['analytics'] {
  const { driver, serial } = ctx;
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
    return serial(() =>
      chain(driver.analytics(name, { from, to, limit, type }), (result) => result.map(map)),
    );
  };
  return {
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
  } satisfies Analytics;
}
