import type { MemoryChange } from './facts/types.js';
import type { AnswerKind, GenerationSettings, Traits } from './personality.js';

/** A fragment an answer used, with its retrieval score. */
export interface SourceRef {
  id: string;
  score: number;
  /** 0 to 1, absolute: how well the fragment answers the question (absent in older records). */
  relevance?: number;
}

/**
 * A source as an answer stored it: its ref and what the answer showed of it, so that the
 * conversation read again shows the same whatever became of the fragment since. Records
 * stored before these were kept have only the ref.
 */
export interface RecordedSource extends SourceRef {
  /** The quoted sentence (else the fragment's text) on one line, at most `EXCERPT_CHARS`. */
  excerpt?: string;
  /** Whether it held the answer. */
  grounded?: boolean;
  /** The file it came from (its `source` metadata), when it has one. */
  source?: string;
  /** The line of that file where the excerpt starts, when the fragment has one. */
  line?: number;
  /** The chapter of a book it is in (its `chapter` metadata), when it has one. */
  chapter?: string;
  /** Where the memory keeps it (CARMA's namespace), when it has namespaces. */
  namespace?: string;
}

/** Token usage of one LLM call. `estimated` when the server sent none and Luna counted. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  estimated: boolean;
}

/** Milliseconds spent in each step of `ask`. */
export interface Timings {
  retrieveMs: number;
  budgetMs: number;
  promptMs: number;
  generateMs: number;
  storeMs: number;
  totalMs: number;
}

/** One question and its answer, as stored. */
export interface ExchangeRecord {
  id: string;
  conversationId: string;
  question: string;
  answer: string;
  mode: 'llm' | 'offline';
  /** Why the answer is offline (no LLM configured, or the error that made the LLM fail). */
  offlineReason?: string;
  sources: RecordedSource[];
  kind: AnswerKind;
  settings: GenerationSettings;
  traits: Traits;
  model?: string;
  timings: Timings;
  createdAt: string;
}

export interface UsageRecord extends Usage {
  exchangeId: string;
  model: string;
  createdAt: string;
}

/** Feedback on an exchange and what it changed, so that it can be shown and undone. */
export interface FeedbackRecord {
  id: string;
  exchangeId: string;
  rating: number;
  text?: string;
  createdAt: string;
  before: Traits;
  after: Traits;
  /**
   * The fragments reinforced and the weight used (undo applies `-weight`), and, when the
   * memory reported it, the weight each fragment actually received (undo takes back that).
   */
  reinforced: { ids: string[]; weight: number; applied?: Record<string, number> };
  undone: boolean;
  undoneAt?: string;
}

/** One entry of the personality's history. */
export interface PersonalityChange {
  id: string;
  at: string;
  cause: 'feedback' | 'undo' | 'set';
  feedbackId?: string;
  before: Traits;
  after: Traits;
}

export interface PersonalityUpdate {
  traits: Traits;
  change: PersonalityChange;
}

/**
 * What Luna needs from a durable store, for @aios/data to provide in the composed system
 * (each method one transaction); `InMemoryConversationStore` (`@aios/luna/testing`)
 * keeps everything in process.
 */
export interface ConversationStore {
  /**
   * Optional: runs `fn` as one transaction, so that what it writes, here and in a memory
   * that shares this store's database, is committed together or not at all. Luna wraps
   * each feedback and each undo in it: the reinforcement of the memory and the record of
   * the feedback. Without it, Luna takes a reinforcement back by the opposite one when
   * the record fails.
   */
  transaction?<T>(fn: () => Promise<T>): Promise<T>;
  /** Stores an exchange and, for LLM answers, its usage, together. */
  recordExchange(exchange: ExchangeRecord, usage?: UsageRecord): Promise<void>;
  getExchange(id: string): Promise<ExchangeRecord | undefined>;
  /** The last `limit` exchanges of a conversation, oldest first. */
  recentExchanges(conversationId: string, limit: number): Promise<ExchangeRecord[]>;
  /**
   * Optional: whether a conversation exists. Without it, Luna takes a conversation with no
   * exchanges for one that does not.
   */
  hasConversation?(conversationId: string): Promise<boolean>;
  /** Optional: the id of the conversation with the latest exchange, if any. */
  latestConversation?(): Promise<string | undefined>;
  /** Optional (with the next two): the log of memory changes learnt from conversations. */
  recordMemoryChanges?(changes: readonly MemoryChange[]): Promise<void>;
  /** Every memory change, oldest first, with its undone flag. */
  listMemoryChanges?(): Promise<MemoryChange[]>;
  markMemoryChangeUndone?(id: string, at: string, restoredAs?: string): Promise<void>;
  usage(): Promise<UsageRecord[]>;
  /** Stores feedback and the personality it led to, together. */
  recordFeedback(feedback: FeedbackRecord, personality: PersonalityUpdate): Promise<void>;
  getFeedback(id: string): Promise<FeedbackRecord | undefined>;
  /** Every feedback record with its undone flag, oldest first. */
  listFeedback(): Promise<FeedbackRecord[]>;
  /** Marks feedback undone and stores the restored personality, together. */
  undoFeedback(feedbackId: string, at: string, personality: PersonalityUpdate): Promise<void>;
  /** Stores an explicitly set personality. */
  setPersonality(personality: PersonalityUpdate): Promise<void>;
  /** The current traits, or undefined before any change. */
  loadPersonality(): Promise<Traits | undefined>;
  /** Every personality change, oldest first. */
  personalityHistory(): Promise<PersonalityChange[]>;
}
