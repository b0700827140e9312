import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  type AiosConfig,
  AiosError,
  type ImplementationReport,
  invalidInput,
  type NativeMode,
} from '@aios/utils';
import { type AnswerSource, answerSource } from './answer-source.js';
import {
  asAiosError,
  checkSampling,
  type GivenTurn,
  givenHistory,
  type Sampling,
  withSampling,
} from './ask-options.js';
import {
  type AssembledPrompt,
  assemblePrompt,
  classifyQuestion,
  type QuestionNeeds,
} from './budget.js';
import { compoundAnswer } from './compound-answer.js';
import { conversationFor } from './conversation-choice.js';
import { LunaErrorCode } from './errors.js';
import {
  canLearn,
  changeLogOf,
  learnFromExchange,
  statesSomething,
  undoMemoryChange,
} from './facts/learn.js';
import type { LearnedFacts, MemoryChange } from './facts/types.js';
import { ChatClient, type ChatResult, chatClientOptionsFromConfig } from './llm/client.js';
import type { MemoryFragment, MemoryProvider } from './memory.js';
import type { QuotedSource } from './offline.js';
import {
  checkTraits,
  DEFAULT_TRAITS,
  type Feedback,
  feedbackSignals,
  type GenerationSettings,
  generationSettings,
  nudgeTraits,
  revertChange,
  systemPrompt,
  TRAITS,
  type Traits,
} from './personality.js';
import { questionParts } from './question-parts.js';
import { retrieveParts } from './question-retrieval.js';
import { recordedSource } from './recorded-source.js';
import { GROUNDED_AT, type Judgement, judge, judgeOverMemory } from './relevance.js';
import type {
  ConversationStore,
  ExchangeRecord,
  FeedbackRecord,
  PersonalityChange,
  SourceRef,
  Timings,
  Usage,
} from './store.js';
import { createTokenizer, type EncodingName, type Tokenizer } from './tokens/index.js';

/** Told to the model when memory holds nothing relevant to the question. */
export const NOTHING_RELEVANT =
  'Nothing relevant to this question was found in memory. If it asks about the user, their ' +
  'household or anything only memory could know, say plainly that you do not know it from ' +
  'memory; do not guess or make it up.';

/** Longest question accepted, in characters (about 25k tokens of English). */
export const MAX_QUESTION_CHARS = 100_000;
const MAX_FEEDBACK_CHARS = 4_000;

export interface LunaOptions {
  memory: MemoryProvider;
  store: ConversationStore;
  /** The chat client; `null` or unset: offline answers only. */
  llm?: ChatClient | null;
  /** Defaults to a tokenizer of `encoding` with the `native` mode. */
  tokenizer?: Tokenizer;
  encoding?: EncodingName;
  native?: NativeMode;
  /** The model's context window in tokens (config `luna.contextWindow`, default 8192). */
  contextWindow?: number;
  /** Fragments retrieved per question (config `carma.search.k`, default 8). */
  k?: number;
  /** Past exchanges considered for the prompt (default 6). */
  historyTurns?: number;
  /**
   * Keep each LLM exchange as a new memory when the provider can (`remember`); default
   * true. Offline answers are quotes of memory and are not stored again.
   */
  rememberExchanges?: boolean;
  /**
   * Learn durable facts from what the user states (default true): after the model answered
   * a message that is not only a question, it is asked which facts to add, update or
   * retire (see ./facts/learn). Needs a memory with `remember`, `update`, `forget` and
   * `get` and a store with the memory-change log; otherwise nothing is learnt.
   */
  learnFacts?: boolean;
  /**
   * Store each exchange (question, answer, sources, usage) in its conversation (default
   * true). False for a store that takes no writes (a read-only home): answers are given as
   * ever and nothing is written, so the answer's id and conversation name nothing stored
   * (a follow-up finds the conversation's earlier turns, not this one), and it is neither
   * remembered nor learnt from.
   */
  recordExchanges?: boolean;
  /**
   * Why an offline answer has no model when none was given, said first in it (default
   * "No language model is configured"); a door that was told to stay offline says so.
   */
  offlineNote?: string;
  name?: string;
}

/** Options from the shared config (`luna` and `carma.search.k`). */
export function lunaOptionsFromConfig(
  config: Pick<AiosConfig, 'luna'> & { carma?: { search?: { k?: number } } },
): Pick<LunaOptions, 'encoding' | 'contextWindow' | 'k'> {
  return {
    encoding: config.luna.encoding,
    contextWindow: config.luna.contextWindow,
    ...(config.carma?.search?.k ? { k: config.carma.search.k } : {}),
  };
}

/**
 * A Luna wired from the shared config: the chat client from `luna.llm` unless one is given
 * (`parts.llm`, `null` for none; made from the config it probes LM Studio then Ollama when
 * no base URL is set), the tokenizer from `luna.encoding` and `native`, the window from
 * `luna.contextWindow`, `k` from `carma.search.k`.
 */
export function createLunaFromConfig(
  config: Pick<AiosConfig, 'luna' | 'native'> & { carma?: { search?: { k?: number } } },
  parts: Pick<LunaOptions, 'memory' | 'store'> & Partial<LunaOptions>,
): Luna {
  const { llm, ...rest } = parts;
  return createLuna({
    ...lunaOptionsFromConfig(config),
    native: config.native,
    llm: llm === undefined ? new ChatClient(chatClientOptionsFromConfig(config.luna.llm)) : llm,
    ...rest,
  });
}

export interface AskOptions {
  /**
   * The conversation this question belongs to: its earlier turns (the last `historyTurns`,
   * within the token budget) go into the prompt, and the exchange is added to it. A new
   * id starts a conversation of that id. Unset: a new conversation (its id is on the
   * answer), unless `continue`.
   */
  conversationId?: string;
  /**
   * Continue a conversation that exists: with `conversationId`, that one (an unknown id is
   * `LUNA_CONVERSATION_NOT_FOUND`); without, the one with the latest exchange (a new one
   * when there is none).
   */
  continue?: boolean;
  /** Stream the reply; each piece of text goes to `onDelta`. */
  onDelta?: (text: string) => void;
  /**
   * Receives the answer's sources as soon as they are known, so that a door can show them
   * before the reply streams: the fragments given to the model, before it is asked; or the
   * offline answer's, once it is composed. When the model fails and the answer falls back
   * to the offline one, it is called again with that answer's sources: what `onDelta`
   * received until then is not part of the answer.
   */
  onSources?: (sources: AnswerSource[]) => void;
  signal?: AbortSignal;
  /**
   * The conversation so far, held by the caller (an OpenAI-style client sends it whole): it
   * takes the place of the stored turns, all of it within the token budget (the oldest
   * turns are left out first). The exchange is still stored in `conversationId`.
   */
  history?: readonly GivenTurn[];
  /** A system prompt in place of the persona the traits give (a saved persona). */
  persona?: string;
  /** Sampling that replaces the personality's (see `Sampling`). */
  sampling?: Sampling;
  /** Search only this namespace of the memory, and remember the exchange in it. */
  namespace?: string;
  /**
   * Which failures of the language model give the offline answer; the others are thrown.
   * Default: every failure (a cancellation is always thrown).
   */
  fallback?: (error: AiosError) => boolean;
}

export interface Answer {
  /** The stored exchange's id (for feedback). */
  id: string;
  conversationId: string;
  answer: string;
  mode: 'llm' | 'offline';
  offlineReason?: string;
  /**
   * Whether memory holds the answer, judged on an absolute scale (`relevance >=
   * GROUNDED_AT`). When false, an offline answer says so and quotes only what came
   * closest (its `sources`), and a language model was told that nothing relevant was found.
   */
  grounded: boolean;
  /** The best relevance of what was retrieved, 0 to 1, the same scale in every retrieval mode. */
  relevance: number;
  /**
   * Fragments the answer is built on: the ones quoted (offline) or given to the model,
   * with their retrieval scores, absolute relevance, the sentence quoted with its subject,
   * the line to cite, and their text and metadata as retrieved (the stored exchange keeps
   * ids, scores and relevance). Not grounded: what came closest.
   */
  sources: AnswerSource[];
  needs: QuestionNeeds;
  settings: GenerationSettings;
  prompt: Pick<
    AssembledPrompt,
    'promptTokens' | 'replyTokens' | 'omitted' | 'truncated' | 'history'
  >;
  usage?: Usage;
  model?: string;
  /** Why the model stopped (`stop`, `length`...), as it said; absent for offline answers. */
  finishReason?: string | null;
  /** Set when the exchange was stored but the memory could not keep it (`remember` failed). */
  rememberError?: string;
  /**
   * What Luna learnt from this exchange (LLM answers to messages that state something):
   * the memory changes made, each with its id for `undoMemoryChange`, and contradictions
   * between what changed and other memories. `error` when learning failed (the answer
   * stands).
   */
  learned?: LearnedFacts;
  timings: Timings;
}

export interface FeedbackResult {
  /** The feedback as stored (after an undo: `undone: true` and `undoneAt`). */
  feedback: FeedbackRecord;
  /** The traits it led to. */
  traits: Traits;
}

export interface Luna {
  /** The chat client Luna asks, or null when she answers offline only. */
  readonly llm: ChatClient | null;
  readonly tokenizer: Tokenizer;
  readonly implementation: ImplementationReport['implementation'];
  readonly report: ImplementationReport;
  ask(question: string, options?: AskOptions): Promise<Answer>;
  /** Feedback on an answer: nudges the traits, reinforces the fragments it used. */
  feedback(exchangeId: string, feedback: Feedback): Promise<FeedbackResult>;
  /**
   * Takes one feedback back: its change of the traits and the reinforcement of the fragments
   * it gave. Without an id, the latest feedback still in effect (so repeated calls walk back
   * through the feedback, newest first).
   */
  undoFeedback(feedbackId?: string): Promise<FeedbackResult>;
  /** Every feedback given, with its undone flag, oldest first. */
  feedbackHistory(): Promise<FeedbackRecord[]>;
  traits(): Promise<Traits>;
  setTraits(traits: Traits): Promise<Traits>;
  personalityHistory(): Promise<PersonalityChange[]>;
  /** The persona (system prompt) the current traits give. */
  persona(): Promise<string>;
  /** Every memory change learnt from conversations, oldest first (empty when none can be). */
  memoryChanges(): Promise<MemoryChange[]>;
  /**
   * Takes back a memory change (the latest still in effect without an id): an added fact
   * is deleted, an updated one restored, a retired one brought back.
   */
  undoMemoryChange(changeId?: string): Promise<MemoryChange>;
}

const now = () => new Date().toISOString();
const ms = (from: number) => Math.round((performance.now() - from) * 1000) / 1000;

function checkPositiveInt(value: unknown, field: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw invalidInput(field, value, 'a positive integer');
  }
  return value as number;
}

export function createLuna(options: LunaOptions): Luna {
  const { memory, store } = options;
  if (!memory || typeof memory.search !== 'function' || typeof memory.reinforce !== 'function') {
    throw invalidInput('memory', memory, 'a MemoryProvider (search, reinforce)');
  }
  if (!store || typeof store.recordExchange !== 'function') {
    throw invalidInput('store', store, 'a ConversationStore');
  }
  const tokenizer =
    options.tokenizer ??
    createTokenizer({
      ...(options.encoding ? { encoding: options.encoding } : {}),
      ...(options.native ? { native: options.native } : {}),
    });
  const contextWindow = checkPositiveInt(options.contextWindow ?? 8192, 'contextWindow');
  const k = checkPositiveInt(options.k ?? 8, 'k');
  const historyTurns = options.historyTurns ?? 6;
  const name = options.name ?? 'Luna';
  const llm = options.llm ?? null;
  const rememberExchanges = options.rememberExchanges ?? true;
  const learnFacts = options.learnFacts ?? true;
  const recordExchanges = options.recordExchanges ?? true;
  const offlineNote = options.offlineNote ?? 'No language model is configured';
  if (typeof offlineNote !== 'string' || offlineNote.trim() === '') {
    throw invalidInput('offlineNote', offlineNote, 'a non-empty sentence');
  }
  const noModelReason =
    options.offlineNote === undefined
      ? 'no language model configured'
      : offlineNote.charAt(0).toLowerCase() + offlineNote.slice(1);
  const changeLog = changeLogOf(store);

  let current: Traits | undefined;
  const traits = async (): Promise<Traits> => {
    current ??= (await store.loadPersonality()) ?? { ...DEFAULT_TRAITS };
    return { ...current };
  };

  const change = (
    cause: PersonalityChange['cause'],
    before: Traits,
    after: Traits,
    feedbackId?: string,
  ): PersonalityChange => ({
    id: randomUUID(),
    at: now(),
    cause,
    ...(feedbackId ? { feedbackId } : {}),
    before,
    after,
  });

  /** The absolute judgement of what was retrieved, with IDF over the whole memory when it can. */
  async function judgeRetrieved(question: string, fragments: MemoryFragment[]): Promise<Judgement> {
    if (fragments.length === 0 || !memory.termIdf) return judge(question, fragments);
    return judgeOverMemory(question, fragments, (words) => memory.termIdf?.(words) ?? []);
  }

  async function ask(question: string, askOptions: AskOptions = {}): Promise<Answer> {
    const started = performance.now();
    if (typeof question !== 'string' || question.trim() === '') {
      throw invalidInput('question', question, 'a non-empty question');
    }
    if (question.length > MAX_QUESTION_CHARS) {
      throw invalidInput(
        'question',
        question,
        `a question of at most ${MAX_QUESTION_CHARS} characters (got ${question.length})`,
      );
    }
    const conversationId = await conversationFor(store, askOptions);
    const { signal, namespace } = askOptions;
    const sampling = askOptions.sampling ? checkSampling(askOptions.sampling) : undefined;
    const given = askOptions.history ? givenHistory(askOptions.history) : undefined;
    const checkAbort = () => {
      if (signal?.aborted) {
        throw new AiosError(LunaErrorCode.ABORTED, 'the question was cancelled', {
          cause: signal.reason,
        });
      }
    };
    checkAbort();

    let t = performance.now();
    const recent =
      given ?? (historyTurns > 0 ? await store.recentExchanges(conversationId, historyTurns) : []);
    // A follow-up ("when is her birthday?") is searched with who the last turn was about,
    // each part of a compound question on its own.
    const parts = questionParts(question);
    const retrieval = await retrieveParts(parts, recent.at(-1), {
      search: (query) =>
        memory.search(query, { k, ...(namespace === undefined ? {} : { namespace }) }),
      judge: judgeRetrieved,
    });
    const { fragments, judgement } = retrieval;
    const grounded = judgement.fragments
      .filter((j) => j.relevance >= GROUNDED_AT)
      .map((j) => j.fragment);
    const retrieveMs = ms(t);

    t = performance.now();
    const personality = await traits();
    const needs = classifyQuestion(question);
    const settings = withSampling(generationSettings(personality, needs.replyTokens), sampling);
    const budgetMs = ms(t);

    t = performance.now();
    // Only what holds the answer goes to the model; with nothing, the model is told so.
    const persona = askOptions.persona ?? systemPrompt(personality, name);
    const prompt = assemblePrompt({
      tokenizer,
      contextWindow,
      replyTokens: settings.maxTokens,
      persona: grounded.length > 0 ? persona : `${persona}\n\n${NOTHING_RELEVANT}`,
      question,
      fragments: grounded,
      history: recent.map((e) => ({ id: e.id, question: e.question, answer: e.answer })),
    });
    const promptMs = ms(t);
    checkAbort();

    const judged = new Map(judgement.fragments.map((j) => [j.fragment.id, j]));
    const relevanceOf = new Map(judgement.fragments.map((j) => [j.fragment.id, j.relevance]));
    const sourcesOf = (refs: Array<SourceRef & Partial<QuotedSource>>) =>
      refs.map((s) => answerSource(s, judged.get(s.id)?.fragment, judged.get(s.id)));
    const modelSources = prompt.fragments.map((f) => ({
      id: f.id,
      score: f.score,
      relevance: relevanceOf.get(f.id) ?? 0,
    }));

    t = performance.now();
    let result: ChatResult | undefined;
    let offlineReason: string | undefined;
    if (llm) {
      askOptions.onSources?.(sourcesOf(modelSources));
      try {
        result = await llm.chat({
          messages: prompt.messages,
          temperature: settings.temperature,
          topP: settings.topP,
          maxTokens: prompt.replyTokens,
          ...(sampling?.stop ? { stop: sampling.stop } : {}),
          ...(askOptions.onDelta ? { stream: true, onDelta: askOptions.onDelta } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (error instanceof AiosError && error.code === LunaErrorCode.ABORTED) throw error;
        if (askOptions.fallback && !askOptions.fallback(asAiosError(error))) throw error;
        const code = error instanceof AiosError ? error.code : 'LLM_ERROR';
        offlineReason = `${code}: ${error instanceof Error ? error.message : String(error)}`;
      }
    } else {
      // Offline by choice (`--offline`) says so, not that no model is configured.
      offlineReason = noModelReason;
    }
    // Tokens spent are accounted even when the reply is unusable.
    const spent = result;
    if (result && result.content.trim() === '') {
      offlineReason = `${LunaErrorCode.LLM_BAD_RESPONSE}: the model returned an empty answer`;
      result = undefined;
    }
    let answer: string;
    let answered = judgement.grounded;
    let sources: Array<SourceRef & Partial<QuotedSource>>;
    if (result) {
      answer = result.content;
      sources = modelSources;
    } else {
      const offline = compoundAnswer(question, retrieval.parts, fragments, {
        note: llm ? 'The language model did not answer' : offlineNote,
        judgement,
      });
      answer = offline.text;
      sources = offline.sources;
      answered = offline.grounded;
      askOptions.onSources?.(sourcesOf(sources));
    }
    const generateMs = ms(t);

    t = performance.now();
    const id = randomUUID();
    const createdAt = now();
    const timings: Timings = {
      retrieveMs,
      budgetMs,
      promptMs,
      generateMs,
      storeMs: 0,
      totalMs: 0,
    };
    const shown = sourcesOf(sources);
    const exchange: ExchangeRecord = {
      id,
      conversationId,
      question,
      answer,
      mode: result ? 'llm' : 'offline',
      ...(offlineReason ? { offlineReason } : {}),
      sources: sources.map((ref, i) => recordedSource(ref, shown[i])),
      kind: needs.kind,
      settings,
      traits: personality,
      ...(result ? { model: result.model } : {}),
      timings,
      createdAt,
    };
    if (recordExchanges) {
      await store.recordExchange(
        exchange,
        spent ? { exchangeId: id, model: spent.model, createdAt, ...spent.usage } : undefined,
      );
    }
    let rememberError: string | undefined;
    // A question memory could not answer, answered by the model all the same, is not kept:
    // its words would make it look like an answer to the same question next time.
    const keep = answered || statesSomething(question);
    if (result && recordExchanges && rememberExchanges && memory.remember && keep) {
      try {
        await memory.remember(
          `Q: ${question}\nA: ${answer}`,
          { kind: 'exchange', exchangeId: id, conversationId },
          namespace === undefined ? undefined : { namespace },
        );
      } catch (error) {
        // The exchange is stored; a memory that cannot take it (say its remote embedder is
        // down) must not lose the answer.
        const code = error instanceof AiosError ? error.code : 'ERROR';
        rememberError = `${code}: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    let learned: LearnedFacts | undefined;
    if (
      result &&
      recordExchanges &&
      learnFacts &&
      llm &&
      changeLog &&
      canLearn(memory) &&
      statesSomething(question)
    ) {
      try {
        learned = await learnFromExchange({
          llm,
          memory,
          log: changeLog,
          atomically,
          question,
          answer,
          conversationId,
          exchangeId: id,
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        // The answer is stored and stands; what could not be learnt is reported. A rolled
        // back transaction took the memory's writes back in its database: it follows.
        if (store.transaction) await memory.refresh?.().catch(() => undefined);
        const code = error instanceof AiosError ? error.code : 'ERROR';
        learned = {
          changes: [],
          conflicts: [],
          error: `${code}: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    }
    timings.storeMs = ms(t);
    timings.totalMs = ms(started);

    return {
      id,
      conversationId,
      answer,
      mode: exchange.mode,
      ...(offlineReason ? { offlineReason } : {}),
      grounded: answered,
      relevance: judgement.relevance,
      sources: shown,
      needs,
      settings,
      prompt: {
        promptTokens: prompt.promptTokens,
        replyTokens: prompt.replyTokens,
        omitted: prompt.omitted,
        truncated: prompt.truncated,
        history: prompt.history,
      },
      ...(result
        ? { usage: result.usage, model: result.model, finishReason: result.finishReason }
        : {}),
      ...(rememberError ? { rememberError } : {}),
      ...(learned ? { learned } : {}),
      timings,
    };
  }

  /**
   * Runs `fn` as one transaction of the store when it has them (the composed system: the
   * memory's writes to the same database are part of it), else as it comes. `fn` calls the
   * memory before the store: the transaction begins at its first write, so the memory's
   * lock is taken before the store's, in the order the memory's own writes take them, and
   * held (`exclusive`) until the transaction ends.
   * A memory given with such a store must keep its state in that database: a rollback
   * takes its writes back there.
   */
  const atomically = <T>(fn: () => Promise<T>): Promise<T> => {
    if (!store.transaction) return fn();
    const run = (): Promise<T> => (store.transaction ? store.transaction(fn) : fn());
    return memory.exclusive ? memory.exclusive(run) : run();
  };

  /**
   * After a failed `atomically`, undoes what the reinforcement did. Without transactions,
   * by the opposite reinforcement. With them its writes were rolled back with the rest:
   * the memory only has to take in what its store holds again (`refresh`), else its next
   * write would start from the rolled-back values. A failure of that is dropped: the
   * caller hears of the first one, and CARMA also catches up at its next search.
   */
  const takeBack = async (
    applied: boolean,
    reinforced: FeedbackRecord['reinforced'],
    sign: 1 | -1,
  ) => {
    if (!applied) return;
    if (!store.transaction) await reinforceBy(reinforced, sign);
    else await memory.refresh?.().catch(() => undefined);
  };

  /**
   * Applies `sign` times a recorded reinforcement: exactly what each fragment received when
   * the memory reported it, else the weight given to all.
   */
  async function reinforceBy(
    reinforced: FeedbackRecord['reinforced'],
    sign: 1 | -1,
  ): Promise<void> {
    const { ids, weight, applied } = reinforced;
    if (!applied) {
      if (ids.length > 0 && weight !== 0) await memory.reinforce(ids, sign * weight);
      return;
    }
    const byWeight = new Map<number, string[]>();
    for (const [id, w] of Object.entries(applied)) {
      if (w === 0 || !Number.isFinite(w)) continue;
      const group = byWeight.get(w);
      if (group) group.push(id);
      else byWeight.set(w, [id]);
    }
    for (const [w, group] of byWeight) await memory.reinforce(group, sign * w);
  }

  async function feedback(exchangeId: string, input: Feedback): Promise<FeedbackResult> {
    if (typeof exchangeId !== 'string' || exchangeId === '') {
      throw invalidInput('exchangeId', exchangeId, 'the id of an answer');
    }
    const rating = input?.rating;
    if (typeof rating !== 'number' || !Number.isFinite(rating) || rating < -1 || rating > 1) {
      throw invalidInput('rating', rating, 'a number in [-1, 1] (-1 bad, 1 good)');
    }
    const text = input.text;
    if (text !== undefined && (typeof text !== 'string' || text.length > MAX_FEEDBACK_CHARS)) {
      throw invalidInput('text', text, `a string of at most ${MAX_FEEDBACK_CHARS} characters`);
    }
    const exchange = await store.getExchange(exchangeId);
    if (!exchange) {
      throw new AiosError(LunaErrorCode.NOT_FOUND, `no answer with id ${exchangeId}`, {
        details: { exchangeId },
      });
    }
    const before = await traits();
    const after = nudgeTraits(before, feedbackSignals({ rating, ...(text ? { text } : {}) }));
    const ids = exchange.sources.map((s) => s.id);
    const reinforced: FeedbackRecord['reinforced'] = { ids, weight: rating };
    const record: FeedbackRecord = {
      id: randomUUID(),
      exchangeId,
      rating,
      ...(text ? { text } : {}),
      createdAt: now(),
      before,
      after,
      reinforced,
      undone: false,
    };
    let applied = false;
    try {
      // The memory first: it takes its own lock before the store's (see atomically).
      await atomically(async () => {
        if (ids.length > 0 && rating !== 0) {
          const result = await memory.reinforce(ids, rating);
          applied = true;
          if (result?.applied) reinforced.applied = { ...result.applied };
        }
        await store.recordFeedback(record, {
          traits: after,
          change: change('feedback', before, after, record.id),
        });
      });
    } catch (error) {
      await takeBack(applied, reinforced, -1);
      throw error;
    }
    current = after;
    return { feedback: record, traits: { ...after } };
  }

  /** The feedback an undo takes back: the one named, else the latest still in effect. */
  async function undoTarget(feedbackId: string | undefined): Promise<FeedbackRecord> {
    if (feedbackId === undefined) {
      const latest = (await store.listFeedback()).filter((f) => !f.undone).at(-1);
      if (!latest) {
        throw new AiosError(
          LunaErrorCode.NOTHING_TO_UNDO,
          'there is no feedback to undo (none given yet, or all of it undone)',
        );
      }
      return latest;
    }
    if (typeof feedbackId !== 'string' || feedbackId === '') {
      throw invalidInput('feedbackId', feedbackId, 'the id of a feedback');
    }
    const record = await store.getFeedback(feedbackId);
    if (!record) {
      throw new AiosError(LunaErrorCode.NOT_FOUND, `no feedback with id ${feedbackId}`, {
        details: { feedbackId },
      });
    }
    return record;
  }

  async function undoFeedback(id?: string): Promise<FeedbackResult> {
    const record = await undoTarget(id);
    const feedbackId = record.id;
    if (record.undone) {
      throw new AiosError(
        LunaErrorCode.ALREADY_UNDONE,
        `feedback ${feedbackId} was already undone`,
        {
          details: { feedbackId, undoneAt: record.undoneAt },
        },
      );
    }
    const before = await traits();
    // When it is the latest change (the traits are still what it made them), the traits it
    // found come back exactly; after later changes, theirs stay and only its own is taken out.
    const latest = TRAITS.every((t) => before[t] === record.after[t]);
    const after = latest ? { ...record.before } : revertChange(before, record.before, record.after);
    const at = now();
    let applied = false;
    try {
      await atomically(async () => {
        await reinforceBy(record.reinforced, -1);
        applied = true;
        await store.undoFeedback(feedbackId, at, {
          traits: after,
          change: change('undo', before, after, feedbackId),
        });
      });
    } catch (error) {
      await takeBack(applied, record.reinforced, 1);
      throw error;
    }
    current = after;
    return { feedback: { ...record, undone: true, undoneAt: at }, traits: { ...after } };
  }

  return {
    llm,
    tokenizer,
    implementation: tokenizer.implementation,
    report: tokenizer.report,
    ask,
    feedback,
    undoFeedback,
    feedbackHistory: () => store.listFeedback(),
    traits,
    async setTraits(next) {
      const checked = checkTraits(next);
      const before = await traits();
      await store.setPersonality({ traits: checked, change: change('set', before, checked) });
      current = checked;
      return { ...checked };
    },
    personalityHistory: () => store.personalityHistory(),
    persona: async () => systemPrompt(await traits(), name),
    memoryChanges: async () => (changeLog ? changeLog.listMemoryChanges() : []),
    async undoMemoryChange(changeId) {
      if (changeId !== undefined && (typeof changeId !== 'string' || changeId === '')) {
        throw invalidInput('changeId', changeId, 'the id of a memory change');
      }
      if (!changeLog || !canLearn(memory)) {
        throw new AiosError(
          LunaErrorCode.NOTHING_TO_UNDO,
          'this memory and store keep no memory changes to undo',
        );
      }
      try {
        return await undoMemoryChange(memory, changeLog, atomically, changeId);
      } catch (error) {
        if (store.transaction) await memory.refresh?.().catch(() => undefined);
        throw error;
      }
    },
  };
}
