import type { DataStore, JsonObject, Message, PersonalityState } from '@aios/data';
import { AiosError, BoundedMap, invalidInput } from '@aios/utils';
import { LunaErrorCode } from './errors.js';
import { dataMemoryChangeLog } from './facts/data-log.js';
import { TRAITS, type Traits } from './personality.js';
import type {
  ConversationStore,
  ExchangeRecord,
  FeedbackRecord,
  PersonalityChange,
  PersonalityUpdate,
  UsageRecord,
} from './store.js';
import { conversationTitle } from './title.js';

export interface DataConversationStoreOptions {
  /** Name of the personality in the store's versioned `personality` states; default `luna`. */
  personality?: string;
}

/** Marks the states this adapter writes (other writers may use the same name). */
const STATE_FORMAT = 'luna-personality';
const STATE_VERSION = 1;

interface PersonalityStateBody {
  format: typeof STATE_FORMAT;
  version: number;
  traits: Traits;
  change: PersonalityChange;
  /** The feedback this version comes from (cause `feedback`). */
  feedback?: FeedbackRecord;
  /** Its row in the store's `feedback` table (absent for feedback stored before it had one). */
  feedbackRow?: number;
  /** The feedback this version takes back (cause `undo`). */
  undo?: { feedbackId: string; at: string };
}

/** What the assistant message of an exchange carries in its metadata. */
interface AnswerMeta {
  exchangeId: string;
  part: 'answer';
  createdAt: string;
  exchange: Omit<ExchangeRecord, 'id' | 'conversationId' | 'question' | 'answer' | 'createdAt'>;
  usage?: { model: string; estimated: boolean; totalTokens: number; createdAt: string };
}

/** Where an exchange is: its two message ids (consecutive, written in one batch). */
interface Located {
  exchangeId: string;
  conversationId: string;
  question: number;
  answer: number;
  usage?: UsageRecord;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function lunaMeta(message: Message): Record<string, unknown> | undefined {
  const meta = message.metadata?.luna;
  return isObject(meta) && typeof meta.exchangeId === 'string' ? meta : undefined;
}

function usageOf(message: Message, meta: AnswerMeta): UsageRecord | undefined {
  if (!meta.usage) return undefined;
  return {
    exchangeId: meta.exchangeId,
    model: meta.usage.model,
    createdAt: meta.usage.createdAt,
    promptTokens: message.promptTokens,
    completionTokens: message.completionTokens,
    totalTokens: meta.usage.totalTokens,
    estimated: meta.usage.estimated,
  };
}

function stateBody(row: PersonalityState): PersonalityStateBody | undefined {
  const s = row.state as Partial<PersonalityStateBody>;
  if (s?.format !== STATE_FORMAT || !isObject(s.traits) || !isObject(s.change)) return undefined;
  for (const name of TRAITS) if (typeof s.traits[name] !== 'number') return undefined;
  return s as PersonalityStateBody;
}

function isConstraint(error: unknown): boolean {
  return error instanceof AiosError && error.code === 'DATA_CONSTRAINT';
}

/**
 * Conversations whose existence and exchanges' positions a store keeps in memory: the ones in
 * use now. A server answers for months; one entry per conversation it ever saw would grow
 * with every question. A conversation dropped is read again from the store when next used.
 */
const CACHED_CONVERSATIONS = 1000;

/** The store's feedback scale (1 worst to 5 best) for a Luna rating (-1 to 1). */
const feedbackTableRating = (rating: number): number => 3 + 2 * rating;

/** One exchange from its two messages, or undefined when either is missing. */
function exchangeOf(question: Message | undefined, answer: Message | undefined) {
  const meta = answer && (lunaMeta(answer) as unknown as AnswerMeta | undefined);
  if (!question || !answer || !meta) return undefined;
  const record: ExchangeRecord = {
    id: meta.exchangeId,
    conversationId: answer.conversationId,
    question: question.content,
    answer: answer.content,
    ...structuredClone(meta.exchange),
    createdAt: meta.createdAt,
  };
  return record;
}

/**
 * A `ConversationStore` over an @aios/data `DataStore` (the caller owns it and closes it).
 *
 * - An exchange is a conversation (created on its first exchange, `metadata.agent:
 *   'luna'`, titled by its question) and two messages, the question (`user`) and the answer (`assistant`, with the
 *   model and the token usage in its columns, so `analytics.tokensPerDay/PerModel` count
 *   it, and the rest of the record in `metadata.luna`). Both messages are one
 *   `messages.add` batch: one transaction, never half an exchange. Both carry
 *   `metadata.exchangeId`, so `getExchange` is one indexed lookup (`messages.byExchange`)
 *   that sees what any process wrote.
 * - The personality is the store's versioned `personality` state named `luna`: every change
 *   is one `personality.save` holding the traits, the change and the feedback that caused
 *   it, or the undo that took feedback back. The history of changes, the feedback records
 *   and their undone flags are read back from those versions.
 * - Feedback is also a row of the store's `feedback` table (rating `3 + 2r` on its 1-5
 *   scale, the comment, the answer's message), written with its personality version in one
 *   transaction; an undo deletes that row with its own version, so the store's feedback
 *   analytics count the feedback in effect.
 * - `transaction(fn)` is the data store's: Luna runs a feedback's reinforcement of CARMA
 *   (which writes to the same database) and its record in one.
 */
export function dataConversationStore(
  store: DataStore,
  options: DataConversationStoreOptions = {},
): ConversationStore & {
  readonly store: DataStore;
  /** Conversations held in memory now (at most `CACHED_CONVERSATIONS`). */
  readonly cachedConversations: number;
} {
  if (!store || typeof store.messages?.add !== 'function') {
    throw invalidInput('store', store, 'a DataStore (openDataStore of @aios/data)');
  }
  const name = options.personality ?? 'luna';
  if (typeof name !== 'string' || name === '') {
    throw invalidInput('personality', name, 'a non-empty name');
  }

  const knownConversations = new BoundedMap<string, true>(CACHED_CONVERSATIONS);
  /**
   * Per conversation: its exchanges in message order as far as read, and where to go on
   * (for `recentExchanges`, which reads only what is new). Reads may overlap: an exchange
   * read twice is kept once, in its first place.
   */
  const byConversation = new BoundedMap<
    string,
    { exchanges: Map<string, Located>; lastId: number; questions: Map<string, number> }
  >(CACHED_CONVERSATIONS);

  /** Reads a conversation's messages written since the last read (by anyone). */
  async function scanConversation(conversationId: string): Promise<Located[]> {
    let seen = byConversation.get(conversationId);
    if (!seen) {
      seen = { exchanges: new Map(), lastId: 0, questions: new Map() };
      byConversation.set(conversationId, seen);
    }
    for (;;) {
      const page = await store.messages.list(conversationId, {
        afterId: seen.lastId,
        limit: 1000,
      });
      for (const m of page) {
        if (m.id <= seen.lastId) continue; // read by an overlapping scan meanwhile
        const meta = lunaMeta(m);
        if (!meta) continue;
        const exchangeId = meta.exchangeId as string;
        if (meta.part === 'question') seen.questions.set(exchangeId, m.id);
        else if (meta.part === 'answer' && seen.questions.has(exchangeId)) {
          const located: Located = {
            exchangeId,
            conversationId,
            question: seen.questions.get(exchangeId) as number,
            answer: m.id,
          };
          seen.questions.delete(exchangeId);
          const usage = usageOf(m, meta as unknown as AnswerMeta);
          if (usage) located.usage = usage;
          if (!seen.exchanges.has(exchangeId)) seen.exchanges.set(exchangeId, located);
        }
      }
      const last = page[page.length - 1];
      if (last) seen.lastId = Math.max(seen.lastId, last.id);
      if (page.length < 1000) break;
    }
    knownConversations.set(conversationId, true);
    return [...seen.exchanges.values()];
  }

  /** Every exchange of every conversation (for `usage`). */
  async function scanAll(): Promise<Located[]> {
    const ids: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await store.conversations.list({ limit: 1000, offset });
      ids.push(...page.map((c) => c.id));
      if (page.length < 1000) break;
    }
    const all: Located[] = [];
    for (const id of ids) all.push(...(await scanConversation(id)));
    return all;
  }

  async function readExchanges(located: Located[]): Promise<ExchangeRecord[]> {
    if (located.length === 0) return [];
    const first = located[0] as Located;
    const last = located[located.length - 1] as Located;
    const messages = await store.messages.list(first.conversationId, {
      afterId: first.question - 1,
      limit: last.answer - first.question + 1,
    });
    const byId = new Map(messages.map((m) => [m.id, m]));
    const out: ExchangeRecord[] = [];
    for (const l of located) {
      // Missing when deleted with its conversation.
      const record = exchangeOf(byId.get(l.question), byId.get(l.answer));
      if (record) out.push(record);
    }
    return out;
  }

  /** The question and answer messages of an exchange, by its id (one index lookup). */
  async function exchangeMessages(id: string) {
    const messages = await store.messages.byExchange(id);
    const part = (p: string) => messages.find((m) => lunaMeta(m)?.part === p);
    return { question: part('question'), answer: part('answer') };
  }

  /** Creates the conversation on its first exchange, titled by that exchange's question. */
  async function ensureConversation(conversationId: string, question: string): Promise<void> {
    if (knownConversations.has(conversationId)) return;
    if (!(await store.conversations.get(conversationId))) {
      try {
        // Set once here: later turns find the conversation and leave its title as it is.
        const title = conversationTitle(question) || null;
        await store.conversations.create({
          id: conversationId,
          title,
          metadata: { agent: 'luna' },
        });
      } catch (error) {
        // Created meanwhile by another writer: fine.
        if (!isConstraint(error) || !(await store.conversations.get(conversationId))) throw error;
      }
    }
    knownConversations.set(conversationId, true);
  }

  async function personalityRows(): Promise<PersonalityStateBody[]> {
    const rows = await store.personality.history(name, { limit: 1_000_000 });
    const out: PersonalityStateBody[] = [];
    for (let i = rows.length - 1; i >= 0; i--) {
      const body = stateBody(rows[i] as PersonalityState);
      if (body) out.push(body);
    }
    return out; // oldest first
  }

  async function savePersonality(
    update: PersonalityUpdate,
    extra: Pick<PersonalityStateBody, 'feedback' | 'feedbackRow' | 'undo'> = {},
  ): Promise<void> {
    const body: PersonalityStateBody = {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      traits: { ...update.traits },
      change: update.change,
      ...extra,
    };
    const at = Date.parse(update.change.at);
    await store.personality.save(
      name,
      body as unknown as JsonObject,
      Number.isFinite(at) ? at : undefined,
    );
  }

  /** Every feedback with its undone flag and table row, oldest first. */
  async function allFeedback(): Promise<{ record: FeedbackRecord; row?: number }[]> {
    const byId = new Map<string, { record: FeedbackRecord; row?: number }>();
    for (const body of await personalityRows()) {
      if (body.feedback) {
        byId.set(body.feedback.id, {
          record: structuredClone(body.feedback),
          ...(typeof body.feedbackRow === 'number' ? { row: body.feedbackRow } : {}),
        });
      } else if (body.undo) {
        const found = byId.get(body.undo.feedbackId)?.record;
        if (found) {
          found.undone = true;
          found.undoneAt = body.undo.at;
        }
      }
    }
    return [...byId.values()];
  }

  const findFeedback = async (id: string) => (await allFeedback()).find((f) => f.record.id === id);

  return {
    store,

    get cachedConversations() {
      return Math.max(knownConversations.size, byConversation.size);
    },

    transaction: (fn) => store.transaction(() => fn()),

    async recordExchange(exchange: ExchangeRecord, usage?: UsageRecord) {
      const { id, conversationId, question, answer, createdAt: createdAtIso, ...rest } = exchange;
      const createdAt = Date.parse(createdAtIso);
      const meta: AnswerMeta = {
        exchangeId: id,
        part: 'answer',
        createdAt: createdAtIso,
        exchange: rest,
        ...(usage
          ? {
              usage: {
                model: usage.model,
                estimated: usage.estimated,
                totalTokens: usage.totalTokens,
                createdAt: usage.createdAt,
              },
            }
          : {}),
      };
      const write = () =>
        store.messages.add([
          {
            conversationId,
            role: 'user',
            content: question,
            metadata: { exchangeId: id, luna: { exchangeId: id, part: 'question' } },
            createdAt,
          },
          {
            conversationId,
            role: 'assistant',
            content: answer,
            model: usage?.model || exchange.model || null,
            promptTokens: usage?.promptTokens ?? 0,
            completionTokens: usage?.completionTokens ?? 0,
            metadata: { exchangeId: id, luna: meta as unknown as JsonObject },
            createdAt,
          },
        ]);
      await ensureConversation(conversationId, question);
      try {
        await write();
      } catch (error) {
        // The conversation was deleted since it was seen: create it again, once.
        if (!isConstraint(error) || (await store.conversations.get(conversationId))) throw error;
        knownConversations.delete(conversationId);
        byConversation.delete(conversationId);
        await ensureConversation(conversationId, question);
        await write();
      }
    },

    async getExchange(id: string) {
      const { question, answer } = await exchangeMessages(id);
      return exchangeOf(question, answer);
    },

    async hasConversation(conversationId: string) {
      return (
        knownConversations.has(conversationId) ||
        (await store.conversations.get(conversationId)) !== undefined
      );
    },

    async latestConversation() {
      // Most recently updated first: a message moves its conversation to the front.
      const recent = await store.conversations.list({ limit: 100 });
      return (recent.find((c) => c.metadata.agent === 'luna') ?? recent[0])?.id;
    },

    async recentExchanges(conversationId: string, limit: number) {
      if (!Number.isInteger(limit) || limit < 1) return [];
      if (
        !knownConversations.has(conversationId) &&
        !(await store.conversations.get(conversationId))
      ) {
        return [];
      }
      const list = await scanConversation(conversationId);
      return readExchanges(list.slice(-limit));
    },

    async usage() {
      return (await scanAll())
        .filter((l) => l.usage)
        .sort((a, b) => a.answer - b.answer)
        .map((l) => structuredClone(l.usage as UsageRecord));
    },

    recordFeedback: (feedback: FeedbackRecord, personality: PersonalityUpdate) =>
      store.transaction(async () => {
        const { answer } = await exchangeMessages(feedback.exchangeId);
        const [row] = await store.feedback.add([
          {
            conversationId: answer?.conversationId ?? null,
            messageId: answer?.id ?? null,
            rating: feedbackTableRating(feedback.rating),
            comment: feedback.text ?? null,
            metadata: {
              luna: {
                feedbackId: feedback.id,
                exchangeId: feedback.exchangeId,
                rating: feedback.rating,
              },
            },
            createdAt: Date.parse(feedback.createdAt),
          },
        ]);
        await savePersonality(personality, {
          feedback: structuredClone(feedback),
          ...(row === undefined ? {} : { feedbackRow: row }),
        });
      }),

    getFeedback: async (id: string) => (await findFeedback(id))?.record,

    listFeedback: async () => (await allFeedback()).map((f) => f.record),

    undoFeedback: (feedbackId: string, at: string, personality: PersonalityUpdate) =>
      store.transaction(async () => {
        const found = await findFeedback(feedbackId);
        if (!found) {
          throw new AiosError(LunaErrorCode.NOT_FOUND, `no feedback ${feedbackId}`, {
            details: { feedbackId },
          });
        }
        if (found.record.undone) {
          throw new AiosError(
            LunaErrorCode.ALREADY_UNDONE,
            `feedback ${feedbackId} was already undone`,
            { details: { feedbackId, undoneAt: found.record.undoneAt } },
          );
        }
        if (found.row !== undefined) await store.feedback.delete([found.row]);
        await savePersonality(personality, { undo: { feedbackId, at } });
      }),

    setPersonality: (personality: PersonalityUpdate) => savePersonality(personality),

    async loadPersonality() {
      const latest = await store.personality.latest(name);
      const body = latest && stateBody(latest);
      if (body) return { ...body.traits };
      const rows = await personalityRows();
      const last = rows[rows.length - 1];
      return last && { ...last.traits };
    },

    personalityHistory: async () =>
      (await personalityRows()).map((body) => structuredClone(body.change)),

    // What Luna learnt from conversations, and its undos (./facts).
    ...dataMemoryChangeLog(store, `${name}.memory`),
  };
}
