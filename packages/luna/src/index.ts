import type { ImplementationReport, NativeMode } from '@aios/utils';
import packageJson from '../package.json' with { type: 'json' };
import { loadLunaBinding } from './binding.js';

// The public API, by name. Test doubles (in-process memory and store, a chat server) are in
// `@aios/luna/testing`.

// The agent
export { type AnswerSource, SNIPPET_CHARS, snippet, writtenAsIs } from './answer-source.js';
export { type GivenTurn, MAX_STOP_SEQUENCES, type Sampling } from './ask-options.js';
// The prompt budget and the offline answer
export {
  type AssembledPrompt,
  type AssembleOptions,
  assemblePrompt,
  type ChatMessage,
  classifyQuestion,
  type HistoryTurn,
  type IncludedFragment,
  type PromptPart,
  type QuestionNeeds,
  REPLY_BUDGETS,
} from './budget.js';
// On the other cores
export { type CarmaMemoryOptions, carmaMemory } from './carma.js';
export {
  type Conflict,
  type ConflictSide,
  findConflicts,
} from './conflicts.js';
export { type DataConversationStoreOptions, dataConversationStore } from './data.js';
export { LunaErrorCode } from './errors.js';
export {
  canLearn,
  EXTRACTION_PROMPT,
  FACT_KIND,
  parseChanges,
  statesSomething,
} from './facts/learn.js';
export type { LearnedFacts, MemoryChange, MemoryChangeLog } from './facts/types.js';
// The chat client
export {
  ChatClient,
  type ChatClientOptions,
  type ChatRequest,
  type ChatResult,
  chatClientOptionsFromConfig,
  DEFAULT_CANDIDATES,
  type Endpoint,
} from './llm/client.js';
export { parseSse } from './llm/sse.js';
export {
  type Answer,
  type AskOptions,
  createLuna,
  createLunaFromConfig,
  type FeedbackResult,
  type Luna,
  type LunaOptions,
  lunaOptionsFromConfig,
  MAX_QUESTION_CHARS,
  NOTHING_RELEVANT,
} from './luna.js';
// The interfaces Luna works through, and what they carry
export type {
  MemoryFragment,
  MemoryProvider,
  MemorySearchOptions,
  ReinforceResult,
} from './memory.js';
export {
  type ExtractedSentence,
  type ExtractiveAnswer,
  type ExtractiveOptions,
  extractiveAnswer,
  OFFLINE_LABEL,
  type QuotedSource,
} from './offline.js';
export { type OpenedLuna, type OpenLunaOptions, openLuna } from './open.js';
// The personality
export {
  type AnswerKind,
  checkTraits,
  DEFAULT_TRAITS,
  type Feedback,
  feedbackSignals,
  type GenerationSettings,
  generationSettings,
  LEARNING_BOUNDS,
  LEARNING_RATE,
  nudgeTraits,
  revertChange,
  systemPrompt,
  TRAITS,
  type Trait,
  type TraitSignals,
  type Traits,
} from './personality.js';
export { EXCERPT_CHARS, recordedSource } from './recorded-source.js';
// Relevance on an absolute scale, and what a quoted sentence is about
export {
  type Coverage,
  cover,
  GROUNDED_AT,
  type JudgedFragment,
  type JudgedSentence,
  type Judgement,
  judge,
  judgeFragment,
  type QuestionTerm,
  questionTerms,
  weighTerms,
} from './relevance.js';
export {
  type SentenceSpan,
  sentenceEnds,
  sentenceSpans,
  sentences,
  splitSentences,
} from './sentences.js';
export type {
  ConversationStore,
  ExchangeRecord,
  FeedbackRecord,
  PersonalityChange,
  PersonalityUpdate,
  RecordedSource,
  SourceRef,
  Timings,
  Usage,
  UsageRecord,
} from './store.js';
export { type StoredAnswer, type StoredSource, storedAnswer } from './stored-answer.js';
export { leadingSubject, type SubjectSentence, subjectSentences } from './subject.js';
export { conversationTitle, TITLE_CHARS } from './title.js';
// Tokens
export {
  createTokenizer,
  ENCODINGS,
  type EncodingName,
  preloadVocabulary,
  type Tokenizer,
  type TokenizerOptions,
  type Truncated,
  VOCABULARY_SIZE,
} from './tokens/index.js';
export {
  carmaOptionsFromConfig,
  type LunaCores,
  type LunaOnCoresOptions,
  lunaOnCores,
} from './wire.js';

export const VERSION: string = packageJson.version;

/** Which implementation @aios/luna runs in this process, and why. */
export function implementation(mode?: NativeMode): ImplementationReport {
  return loadLunaBinding(mode).report;
}
