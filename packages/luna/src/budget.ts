import { AiosError, invalidInput, positiveInteger } from '@aios/utils';
import { LunaErrorCode } from './errors.js';
import type { MemoryFragment } from './memory.js';
import type { AnswerKind } from './personality.js';
import { words } from './text.js';
import type { Tokenizer } from './tokens/index.js';

/** Reply budget (tokens) per kind of question, before the personality's length factor. */
export const REPLY_BUDGETS: Readonly<Record<AnswerKind, number>> = Object.freeze({
  'short-fact': 150,
  explanation: 500,
  'long-form': 1500,
});

export interface QuestionNeeds {
  kind: AnswerKind;
  replyTokens: number;
  /** Which rule decided. */
  reason: string;
}

const LONG_FORM =
  /\b(write|draft|compose|essay|article|story|report|guide|tutorial|step[- ]by[- ]step|in (?:great )?detail|detailed|comprehensive|thorough(?:ly)?|outline|plan for|list all|summari[sz]e everything)\b/i;
const EXPLANATION =
  /\b(why|how (?:does|do|did|can|could|would|should|is|are|to)|explain|describe|compare|difference|differences|what happens|walk me through|pros and cons|tell me about|reason)\b/i;
const SHORT_FACT =
  /^(who|when|where|which|what(?:'s| is| was| are| were)|how (?:many|much|old|long|far|big)|is|are|does|do|did|can|was|were|name|define)\b/i;

/** Classifies what a question needs (short fact, explanation, long-form) into a reply budget. */
export function classifyQuestion(question: string): QuestionNeeds {
  if (typeof question !== 'string') throw invalidInput('question', question, 'a string');
  const n = words(question).length;
  const needs = (kind: AnswerKind, reason: string): QuestionNeeds => ({
    kind,
    replyTokens: REPLY_BUDGETS[kind],
    reason,
  });
  if (LONG_FORM.test(question)) return needs('long-form', 'asks for a written piece or detail');
  if (EXPLANATION.test(question)) return needs('explanation', 'asks why/how or to explain');
  if (SHORT_FACT.test(question.trim()) && n <= 15)
    return needs('short-fact', 'a short factual question');
  if (n <= 6) return needs('short-fact', 'a very short question');
  if (n > 40) return needs('long-form', 'a long, detailed request');
  return needs('explanation', 'default');
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Tokens the chat format adds per message (role and separators), as OpenAI documents. */
export const MESSAGE_OVERHEAD = 4;
/** Tokens that prime the assistant's reply. */
export const REPLY_PRIMING = 3;
/** The smallest reply worth asking for. */
export const MIN_REPLY_TOKENS = 32;
/** A fragment is truncated rather than dropped only if at least this much of it fits. */
export const MIN_TRUNCATED_TOKENS = 48;
const MEMORY_HEADER = '\n\nMemory fragments (cite as [n]):';

export interface HistoryTurn {
  id: string;
  question: string;
  answer: string;
}

export interface AssembleOptions {
  tokenizer: Tokenizer;
  contextWindow: number;
  /** Wanted reply budget; the prompt keeps room for it when it can. */
  replyTokens: number;
  persona: string;
  question: string;
  /** Retrieved fragments, any order; higher score is more relevant. */
  fragments?: readonly MemoryFragment[];
  /** Recent exchanges of the conversation, oldest first. */
  history?: readonly HistoryTurn[];
}

export interface PromptPart {
  kind: 'fragment' | 'history';
  id: string;
  /** Tokens the part would have taken. */
  tokens: number;
  /** Fragment score, or recency weight for history. */
  priority: number;
}

export interface IncludedFragment {
  id: string;
  score: number;
  tokens: number;
  truncated: boolean;
}

export interface AssembledPrompt {
  messages: ChatMessage[];
  /** Exact prompt tokens including the per-message overhead. */
  promptTokens: number;
  /** Reply budget that fits: `promptTokens + replyTokens <= contextWindow`. */
  replyTokens: number;
  contextWindow: number;
  /** Fragments in the prompt, in citation order ([1], [2]...). */
  fragments: IncludedFragment[];
  /** Ids of the history turns in the prompt, oldest first. */
  history: string[];
  /** What did not fit, least relevant first dropped. */
  omitted: PromptPart[];
  /** Fragments cut to fit: tokens before and after. */
  truncated: { id: string; fromTokens: number; toTokens: number }[];
}

interface Candidate {
  kind: 'fragment' | 'history';
  id: string;
  priority: number;
  order: number;
  fragment?: MemoryFragment;
  turn?: HistoryTurn;
  tokens: number;
  text?: string;
  truncatedFrom?: number;
}

/**
 * Builds the chat messages for a question so that prompt plus reply fit the context
 * window. The persona and the question always go in (else `LUNA_CONTEXT_TOO_SMALL` or
 * `LUNA_QUESTION_TOO_LONG`); up to half of the remaining room is kept for the reply; the
 * rest is filled with fragments (priority: score relative to the best) and recent turns
 * (priority: 0.9 · 0.7^age), most relevant first. A fragment that does not fit whole is
 * truncated when at least `MIN_TRUNCATED_TOKENS` of it fit; what is left out is reported.
 */
export function assemblePrompt(options: AssembleOptions): AssembledPrompt {
  const { tokenizer, persona, question } = options;
  const contextWindow = positiveInteger(options.contextWindow, 'contextWindow');
  positiveInteger(options.replyTokens, 'replyTokens');
  const fragments = options.fragments ?? [];
  const history = options.history ?? [];
  const [personaTokens = 0, questionTokens = 0, headerTokens = 0] = tokenizer.countMany([
    persona,
    question,
    MEMORY_HEADER,
  ]);
  const minReply = Math.min(options.replyTokens, MIN_REPLY_TOKENS);
  const personaNeeds = personaTokens + 2 * MESSAGE_OVERHEAD + REPLY_PRIMING + minReply;
  if (personaNeeds > contextWindow) {
    throw new AiosError(
      LunaErrorCode.CONTEXT_TOO_SMALL,
      `a context window of ${contextWindow} tokens cannot hold the persona (${personaTokens} tokens) and a ${minReply}-token reply; it needs at least ${personaNeeds}`,
      { details: { contextWindow, personaTokens, needed: personaNeeds } },
    );
  }
  const fixed = personaTokens + questionTokens + 2 * MESSAGE_OVERHEAD + REPLY_PRIMING;
  if (fixed + minReply > contextWindow) {
    throw new AiosError(
      LunaErrorCode.QUESTION_TOO_LONG,
      `the question takes ${questionTokens} tokens; with the persona it needs ${fixed + minReply} of a ${contextWindow}-token context window`,
      { details: { contextWindow, questionTokens, personaTokens } },
    );
  }
  const available = contextWindow - fixed;
  const reserve = Math.min(options.replyTokens, Math.max(minReply, Math.floor(available / 2)));

  // Every candidate's size in one batch call.
  const maxScore = fragments.reduce((m, f) => Math.max(m, f.score), 0);
  const candidates: Candidate[] = [];
  const texts: string[] = [];
  fragments.forEach((fragment, i) => {
    candidates.push({
      kind: 'fragment',
      id: fragment.id,
      priority: maxScore > 0 ? Math.max(0, fragment.score) / maxScore : 1 / (i + 1),
      order: i,
      fragment,
      tokens: 0,
    });
    texts.push(`[${i + 1}] ${fragment.text}`);
  });
  history.forEach((turn, i) => {
    const age = history.length - 1 - i;
    candidates.push({
      kind: 'history',
      id: turn.id,
      priority: 0.9 * 0.7 ** age,
      order: i,
      turn,
      tokens: 0,
    });
    texts.push(turn.question, turn.answer);
  });
  const counts = tokenizer.countMany(texts);
  let at = 0;
  for (const c of candidates) {
    c.tokens =
      c.kind === 'fragment'
        ? (counts[at++] ?? 0) + 1 // the line break that joins it
        : (counts[at++] ?? 0) + (counts[at++] ?? 0) + 2 * MESSAGE_OVERHEAD;
  }
  const ranked = [...candidates].sort(
    (a, b) => b.priority - a.priority || (a.kind === b.kind ? a.order - b.order : 0),
  );

  let remaining = available - reserve - (fragments.length > 0 ? headerTokens : 0);
  const included: Candidate[] = [];
  const omitted: PromptPart[] = [];
  const part = (c: Candidate): PromptPart => ({
    kind: c.kind,
    id: c.id,
    tokens: c.tokens,
    priority: c.priority,
  });
  for (const c of ranked) {
    if (c.tokens <= remaining) {
      included.push(c);
      remaining -= c.tokens;
    } else if (c.kind === 'fragment' && c.fragment && remaining >= MIN_TRUNCATED_TOKENS) {
      const label = `[${c.order + 1}] `;
      const cut = tokenizer.truncate(c.fragment.text, remaining - 8);
      c.text = cut.text;
      c.truncatedFrom = c.tokens;
      c.tokens = tokenizer.count(label + cut.text) + 1;
      included.push(c);
      remaining -= c.tokens;
    } else {
      omitted.push(part(c));
    }
  }

  const render = () => {
    const frags = included.filter((c) => c.kind === 'fragment');
    const turns = included.filter((c) => c.kind === 'history').sort((a, b) => a.order - b.order);
    const lines = frags.map((c, i) => `[${i + 1}] ${c.text ?? c.fragment?.text ?? ''}`);
    const system = lines.length > 0 ? `${persona}${MEMORY_HEADER}\n${lines.join('\n')}` : persona;
    const messages: ChatMessage[] = [{ role: 'system', content: system }];
    for (const t of turns) {
      messages.push({ role: 'user', content: t.turn?.question ?? '' });
      messages.push({ role: 'assistant', content: t.turn?.answer ?? '' });
    }
    messages.push({ role: 'user', content: question });
    const tokens = tokenizer.countMany(messages.map((m) => m.content));
    let promptTokens = REPLY_PRIMING + MESSAGE_OVERHEAD * messages.length;
    for (const n of tokens) promptTokens += n;
    return { messages, promptTokens, frags, turns };
  };

  let rendered = render();
  // Counting parts one by one can differ from the joined text by a token here and there;
  // drop the least relevant included part until the exact count fits.
  while (rendered.promptTokens + minReply > contextWindow && included.length > 0) {
    const dropped = included.pop() as Candidate;
    omitted.push(part(dropped));
    rendered = render();
  }
  omitted.sort((a, b) => b.priority - a.priority);

  return {
    messages: rendered.messages,
    promptTokens: rendered.promptTokens,
    replyTokens: Math.min(options.replyTokens, contextWindow - rendered.promptTokens),
    contextWindow,
    fragments: rendered.frags.map((c) => ({
      id: c.id,
      score: c.fragment?.score ?? 0,
      tokens: c.tokens,
      truncated: c.truncatedFrom !== undefined,
    })),
    history: rendered.turns.map((c) => c.id),
    omitted,
    truncated: included
      .filter((c) => c.truncatedFrom !== undefined)
      .map((c) => ({ id: c.id, fromTokens: c.truncatedFrom ?? 0, toTokens: c.tokens })),
  };
}
