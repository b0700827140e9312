/**
 * The offline answer to a question of several parts: each part's quotes in turn, every
 * note cited once, and the parts memory does not answer said to be unanswered, so that a
 * half answer never reads as a whole one.
 */
import type { MemoryFragment } from './memory.js';
import {
  type Candidate,
  chooseQuotes,
  citedQuotes,
  type ExtractiveAnswer,
  type ExtractiveOptions,
  extractiveAnswer,
  OFFLINE_LABEL,
  refusal,
  sentenceOf,
  sourcesOf,
} from './offline.js';
import type { AskedPart } from './question-retrieval.js';

/**
 * The offline answer to `question` asked in `parts` (one part: `extractiveAnswer`), from
 * `fragments`, the fragments every part's judgement is of.
 */
export function compoundAnswer(
  question: string,
  parts: readonly AskedPart[],
  fragments: readonly MemoryFragment[],
  options: ExtractiveOptions & { judgement: ExtractiveOptions['judgement'] & object },
): ExtractiveAnswer {
  const [only] = parts;
  if (parts.length === 1 && only) {
    return extractiveAnswer(only.question, fragments, { ...options, judgement: only.judgement });
  }
  const limits = { maxSentences: options.maxSentences ?? 3, maxChars: options.maxChars ?? 1200 };
  const note = options.note ?? 'No language model is reachable';
  const chosen: Candidate[] = [];
  const unanswered: string[] = [];
  for (const part of parts) {
    const quotes = chooseQuotes(part.judgement, limits, chosen);
    if (quotes === undefined) unanswered.push(part.question);
    else chosen.push(...quotes);
  }
  if (unanswered.length === parts.length || chosen.length === 0) {
    return refusal(question.trim(), fragments, options.judgement, note);
  }
  const missing =
    unanswered.length > 0
      ? `; memory holds nothing that answers ${unanswered.map((p) => `"${p}"`).join(', ')}.`
      : '';
  return {
    text: `${OFFLINE_LABEL} ${note}; from memory: ${citedQuotes(chosen, fragments).join(' ')}${missing}`,
    grounded: true,
    relevance: options.judgement.relevance,
    sources: sourcesOf(chosen, fragments),
    sentences: chosen.map((c) => sentenceOf(c, fragments)),
  };
}
