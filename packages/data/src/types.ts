import type { ImplementationReport } from '@aios/utils';

/** A JSON object: metadata and states are stored as JSON text. */
export type JsonObject = { [key: string]: unknown };

/** Milliseconds since the Unix epoch, or a Date. */
export type Timestamp = number | Date;

export interface FragmentInput {
  /** Caller's id (e.g. a content id); a random UUID when absent. Existing ids are replaced. */
  id?: string;
  text: string;
  metadata?: JsonObject;
  /** Float32 embedding; every vector in a store has the same dimension. */
  vector?: Float32Array | null;
  createdAt?: Timestamp;
}

export interface Fragment {
  id: string;
  text: string;
  metadata: JsonObject;
  /** A view on the bytes read from the database (no per-element copy), or null. */
  vector: Float32Array | null;
  createdAt: number;
  updatedAt: number;
  useCount: number;
  lastUsedAt: number | null;
}

export interface FragmentRepository {
  /** Inserts or replaces fragments in one transaction; returns their ids in order. */
  put(fragments: readonly FragmentInput[]): Promise<string[]>;
  get(id: string): Promise<Fragment | undefined>;
  /** Fragments by id in the order asked; unknown ids are skipped. */
  getMany(ids: readonly string[]): Promise<Fragment[]>;
  /** Pages through all fragments by id. */
  list(options?: { after?: string; limit?: number }): Promise<Fragment[]>;
  delete(ids: readonly string[]): Promise<number>;
  count(): Promise<number>;
  /** Adds one use per id (for "most used" analytics). */
  markUsed(ids: readonly string[], at?: Timestamp): Promise<number>;
  /** The store's vector dimension, once known. */
  dimension(): Promise<number | undefined>;
}

export interface ConversationInput {
  id?: string;
  title?: string | null;
  metadata?: JsonObject;
  createdAt?: Timestamp;
}

export interface Conversation {
  id: string;
  title: string | null;
  metadata: JsonObject;
  createdAt: number;
  updatedAt: number;
}

export interface ConversationRepository {
  create(input?: ConversationInput): Promise<Conversation>;
  get(id: string): Promise<Conversation | undefined>;
  /** Most recently updated first. */
  list(options?: { limit?: number; offset?: number }): Promise<Conversation[]>;
  /** Deletes the conversation and its messages. */
  delete(id: string): Promise<boolean>;
  count(): Promise<number>;
}

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface MessageInput {
  conversationId: string;
  role: Role;
  content: string;
  model?: string | null;
  promptTokens?: number;
  completionTokens?: number;
  metadata?: JsonObject;
  createdAt?: Timestamp;
}

export interface Message {
  id: number;
  conversationId: string;
  role: Role;
  content: string;
  model: string | null;
  promptTokens: number;
  completionTokens: number;
  metadata: JsonObject;
  createdAt: number;
}

export interface MessageRepository {
  /** Appends messages in one transaction; returns their ids in order. */
  add(messages: readonly MessageInput[]): Promise<number[]>;
  /** A conversation's messages, oldest first. */
  list(conversationId: string, options?: { afterId?: number; limit?: number }): Promise<Message[]>;
  count(): Promise<number>;
}

export interface FeedbackInput {
  conversationId?: string | null;
  messageId?: number | null;
  /** 1 (worst) to 5 (best). */
  rating: number;
  comment?: string | null;
  metadata?: JsonObject;
  createdAt?: Timestamp;
}

export interface Feedback {
  id: number;
  conversationId: string | null;
  messageId: number | null;
  rating: number;
  comment: string | null;
  metadata: JsonObject;
  createdAt: number;
}

export interface FeedbackRepository {
  add(feedback: readonly FeedbackInput[]): Promise<number[]>;
  /** Newest first. */
  list(options?: { limit?: number }): Promise<Feedback[]>;
}

export interface PersonalityState {
  id: number;
  name: string;
  state: JsonObject;
  createdAt: number;
}

export interface PersonalityRepository {
  /** Records a new version of the named state. */
  save(name: string, state: JsonObject, at?: Timestamp): Promise<PersonalityState>;
  latest(name: string): Promise<PersonalityState | undefined>;
  /** Newest first. */
  history(name: string, options?: { limit?: number }): Promise<PersonalityState[]>;
}

export interface EventInput {
  /** What happened, e.g. `chat.turn`, `latency.ms`, `fragment.used`. */
  type: string;
  value?: number | null;
  data?: JsonObject | null;
  createdAt?: Timestamp;
}

export interface StoredEvent {
  id: number;
  type: string;
  value: number | null;
  data: JsonObject | null;
  createdAt: number;
}

export interface EventRepository {
  /** Appends events in one transaction; returns how many. */
  add(events: readonly EventInput[]): Promise<number>;
  /** Newest first. */
  list(options?: TimeRange & { type?: string; limit?: number }): Promise<StoredEvent[]>;
  count(): Promise<number>;
}

/** `[from, to)`; both optional. */
export interface TimeRange {
  from?: Timestamp;
  to?: Timestamp;
}

export interface MessagesPerDay {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  messages: number;
  conversations: number;
}

export interface TokenUsage {
  messages: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface TokensPerDay extends TokenUsage {
  day: string;
  model: string | null;
}

export interface TokensPerModel extends TokenUsage {
  model: string | null;
}

export interface MemoryGrowth {
  day: string;
  added: number;
  /** Fragments in the store at the end of that day. */
  total: number;
}

export interface TopFragment {
  id: string;
  /** The first 200 characters. */
  preview: string;
  useCount: number;
  lastUsedAt: number | null;
}

export interface FeedbackStats {
  count: number;
  /** Null when there is no feedback in the range. */
  average: number | null;
  min: number | null;
  max: number | null;
}

export interface FeedbackPerDay extends FeedbackStats {
  day: string;
}

export interface EventsPerDay {
  day: string;
  type: string;
  count: number;
  sum: number | null;
  average: number | null;
  min: number | null;
  max: number | null;
}

/** Aggregates computed inside the database; only the result rows reach JavaScript. */
export interface Analytics {
  messagesPerDay(range?: TimeRange): Promise<MessagesPerDay[]>;
  tokensPerDay(range?: TimeRange): Promise<TokensPerDay[]>;
  tokensPerModel(range?: TimeRange): Promise<TokensPerModel[]>;
  memoryGrowth(range?: TimeRange): Promise<MemoryGrowth[]>;
  topFragments(limit?: number): Promise<TopFragment[]>;
  feedbackSummary(range?: TimeRange): Promise<FeedbackStats>;
  feedbackPerDay(range?: TimeRange): Promise<FeedbackPerDay[]>;
  eventsPerDay(options?: TimeRange & { type?: string }): Promise<EventsPerDay[]>;
}

export type ExportFormat = 'json' | 'jsonl';

export interface TransferSummary {
  format: ExportFormat;
  path: string;
  /** Rows per table. */
  tables: Record<string, number>;
}

export interface ImportOptions {
  /** Default: from the file name (`.jsonl` or else json). */
  format?: ExportFormat;
  /** Replace rows whose id exists instead of failing with DATA_CONSTRAINT. */
  replace?: boolean;
}

/**
 * The storage interface the other cores use. Every method is asynchronous and every
 * batch is atomic, so that a server database (PostgreSQL) can implement it as well.
 */
export interface DataStore {
  readonly implementation: ImplementationReport['implementation'];
  readonly report: ImplementationReport;
  /** The database file, or `:memory:`. */
  readonly path: string;
  readonly fragments: FragmentRepository;
  readonly conversations: ConversationRepository;
  readonly messages: MessageRepository;
  readonly feedback: FeedbackRepository;
  readonly personality: PersonalityRepository;
  readonly events: EventRepository;
  readonly analytics: Analytics;
  schemaVersion(): Promise<number>;
  /** Writes every table to a JSON or JSONL file, atomically. */
  exportTo(path: string, options?: { format?: ExportFormat }): Promise<TransferSummary>;
  /** Reads an export back, all or nothing. */
  importFrom(path: string, options?: ImportOptions): Promise<TransferSummary>;
  /** `PRAGMA integrity_check`: `ok` or the problems found. */
  integrityCheck(): Promise<string>;
  close(): Promise<void>;
}
