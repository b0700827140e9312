import type { DataStore, JsonObject, Message, PersonalityState } from '@aios/data';
import { AiosError, invalidInput } from '@aios/utils';
import { LunaErrorCode } from './errors.js';
import { TRAITS, type Traits } from './personality.js';
import type {
  ConversationStore,
  ExchangeRecord,
  FeedbackRecord,
  PersonalityChange,
  PersonalityUpdate,
  UsageRecord,
} from './store.js';

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
 * A `ConversationStore` over an @aios/data `DataStore` (the caller owns it and closes it).
 *
 * - An exchange is a conversation (created on its first exchange, `metadata.agent:
 *   'luna'`) and two messages, the question (`user`) and the answer (`assistant`, with the
 *   model and the token usage in its columns, so `analytics.tokensPerDay/PerModel` count
 *   it, and the rest of the record in `metadata.luna`). Both messages are one
 *   `messages.add` batch: one transaction, never half an exchange.
 * - The personality is the store's versioned `personality` state named `luna`: every change
 *   is one `personality.save` (one row, one transaction) holding the traits, the change and
 *   the feedback that caused it, or the undo that took feedback back. The history of
 *   changes, the feedback records and their undone flags are read back from those versions.
 *
 * Messages have no lookup by metadata in the `DataStore` interface, so exchange ids are
 * located by reading the conversations' messages once per process (for `getExchange` of
 * an exchange not written by this process, and `usage`); later writes keep that index up
 * to date. Writes from other processes after that are not seen until a new adapter.
 */
export function dataConversationStore(
  store: DataStore,
  options: DataConversationStoreOptions = {},
): ConversationStore & { readonly store: DataStore } {
  if (!store || typeof store.messages?.add !== 'function') {
    throw invalidInput('store', store, 'a DataStore (openDataStore of @aios/data)');
  }
  const name = options.personality ?? 'luna';
  if (typeof name !== 'string' || name === '') {
    throw invalidInput('personality', name, 'a non-empty name');
  }

  const knownConversations = new Set<string>();
  const byExchange = new Map<string, Located>();
  /** Per conversation: its exchanges in message order, as far as read, and where to go on. */
  const byConversation = new Map<
    string,
    { list: Located[]; lastId: number; questions: Map<string, number> }
  >();

  // One operation at a time, so that scans and writes do not interleave.
  let pending: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = pending.then(fn, fn);
    pending = run.catch(() => undefined);
    return run;
  };

  /** Reads a conversation's messages written since the last read (by anyone). */
  async function scanConversation(conversationId: string): Promise<Located[]> {
    let seen = byConversation.get(conversationId);
    if (!seen) {
      seen = { list: [], lastId: 0, questions: new Map() };
      byConversation.set(conversationId, seen);
    }
    for (;;) {
      const page = await store.messages.list(conversationId, {
        afterId: seen.lastId,
        limit: 1000,
      });
      for (const m of page) {
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
          seen.list.push(located);
          byExchange.set(exchangeId, located);
        }
      }
      if (page.length > 0) seen.lastId = (page[page.length - 1] as Message).id;
      if (page.length < 1000) break;
    }
    knownConversations.add(conversationId);
    return seen.list;
  }

  /** Brings every conversation up to date (for lookups by exchange id and usage). */
  async function scanAll(): Promise<void> {
    const ids: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await store.conversations.list({ limit: 1000, offset });
      ids.push(...page.map((c) => c.id));
      if (page.length < 1000) break;
    }
    for (const id of ids) await scanConversation(id);
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
      const q = byId.get(l.question);
      const a = byId.get(l.answer);
      if (!q || !a) continue; // deleted with its conversation
      const meta = lunaMeta(a) as unknown as AnswerMeta;
      out.push({
        id: l.exchangeId,
        conversationId: l.conversationId,
        question: q.content,
        answer: a.content,
        ...structuredClone(meta.exchange),
        createdAt: meta.createdAt,
      });
    }
    return out;
  }

  async function ensureConversation(conversationId: string): Promise<void> {
    if (knownConversations.has(conversationId)) return;
    if (!(await store.conversations.get(conversationId))) {
      try {
        await store.conversations.create({ id: conversationId, metadata: { agent: 'luna' } });
      } catch (error) {
        // Created meanwhile by another writer: fine.
        if (!isConstraint(error) || !(await store.conversations.get(conversationId))) throw error;
      }
    }
    knownConversations.add(conversationId);
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
    extra: Pick<PersonalityStateBody, 'feedback' | 'undo'> = {},
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

  /** Every feedback record from the personality versions, with undone flags, oldest first. */
  async function allFeedback(): Promise<FeedbackRecord[]> {
    const byId = new Map<string, FeedbackRecord>();
    for (const body of await personalityRows()) {
      if (body.feedback) byId.set(body.feedback.id, structuredClone(body.feedback));
      else if (body.undo) {
        const found = byId.get(body.undo.feedbackId);
        if (found) {
          found.undone = true;
          found.undoneAt = body.undo.at;
        }
      }
    }
    return [...byId.values()];
  }

  async function findFeedback(id: string): Promise<FeedbackRecord | undefined> {
    return (await allFeedback()).find((f) => f.id === id);
  }

  return {
    store,

    recordExchange: (exchange: ExchangeRecord, usage?: UsageRecord) =>
      serial(async () => {
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
              metadata: { luna: { exchangeId: id, part: 'question' } },
              createdAt,
            },
            {
              conversationId,
              role: 'assistant',
              content: answer,
              model: usage?.model || exchange.model || null,
              promptTokens: usage?.promptTokens ?? 0,
              completionTokens: usage?.completionTokens ?? 0,
              metadata: { luna: meta as unknown as JsonObject },
              createdAt,
            },
          ]);
        await ensureConversation(conversationId);
        let ids: number[];
        try {
          ids = await write();
        } catch (error) {
          // The conversation was deleted since it was seen: create it again, once.
          if (!isConstraint(error) || (await store.conversations.get(conversationId))) throw error;
          knownConversations.delete(conversationId);
          byConversation.delete(conversationId);
          await ensureConversation(conversationId);
          ids = await write();
        }
        byExchange.set(id, {
          exchangeId: id,
          conversationId,
          question: ids[0] as number,
          answer: ids[1] as number,
          ...(usage ? { usage: structuredClone(usage) } : {}),
        });
      }),

    getExchange: (id: string) =>
      serial(async () => {
        if (!byExchange.has(id)) await scanAll();
        const located = byExchange.get(id);
        if (!located) return undefined;
        return (await readExchanges([located]))[0];
      }),

    recentExchanges: (conversationId: string, limit: number) =>
      serial(async () => {
        if (!Number.isInteger(limit) || limit < 1) return [];
        if (
          !knownConversations.has(conversationId) &&
          !(await store.conversations.get(conversationId))
        ) {
          return [];
        }
        const list = await scanConversation(conversationId);
        return readExchanges(list.slice(-limit));
      }),

    usage: () =>
      serial(async () => {
        await scanAll();
        return [...byConversation.values()]
          .flatMap((c) => c.list)
          .filter((l) => l.usage)
          .sort((a, b) => a.answer - b.answer)
          .map((l) => structuredClone(l.usage as UsageRecord));
      }),

    recordFeedback: (feedback: FeedbackRecord, personality: PersonalityUpdate) =>
      serial(() => savePersonality(personality, { feedback: structuredClone(feedback) })),

    getFeedback: (id: string) => serial(() => findFeedback(id)),

    listFeedback: () => serial(allFeedback),

    undoFeedback: (feedbackId: string, at: string, personality: PersonalityUpdate) =>
      serial(async () => {
        const found = await findFeedback(feedbackId);
        if (!found) {
          throw new AiosError(LunaErrorCode.NOT_FOUND, `no feedback ${feedbackId}`, {
            details: { feedbackId },
          });
        }
        if (found.undone) {
          throw new AiosError(
            LunaErrorCode.ALREADY_UNDONE,
            `feedback ${feedbackId} was already undone`,
            { details: { feedbackId, undoneAt: found.undoneAt } },
          );
        }
        await savePersonality(personality, { undo: { feedbackId, at } });
      }),

    setPersonality: (personality: PersonalityUpdate) => serial(() => savePersonality(personality)),

    loadPersonality: () =>
      serial(async () => {
        const latest = await store.personality.latest(name);
        const body = latest && stateBody(latest);
        if (body) return { ...body.traits };
        const rows = await personalityRows();
        const last = rows[rows.length - 1];
        return last && { ...last.traits };
      }),

    personalityHistory: () =>
      serial(async () => (await personalityRows()).map((body) => structuredClone(body.change))),
  };
}
