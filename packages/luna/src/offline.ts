import type { MemoryFragment } from './memory.js';
import { sentences } from './sentences.js';
import type { SourceRef } from './store.js';
import { contentWords, words } from './text.js';

/** Share of the best sentence's score below which a sentence is not quoted. */
const RELEVANCE_FLOOR = 0.5;

/** The label that starts every offline answer. */
export const OFFLINE_LABEL = '[offline]';

export interface ExtractiveOptions {
  /** Most sentences to quote (default 3). */
  maxSentences?: number;
  /** Most characters of quoted text (default 1200). */
  maxChars?: number;
  /** Why the answer is offline, said first (default: no language model is reachable). */
  note?: string;
}

export interface ExtractedSentence {
  fragmentId: string;
  text: string;
  score: number;
}

export interface ExtractiveAnswer {
  text: string;
  sources: SourceRef[];
  sentences: ExtractedSentence[];
}

/**
 * An answer built only from memory: the sentences of the retrieved fragments that share
 * the most (idf-weighted) words with the question, quoted in fragment order with their
 * citation, under the `[offline]` label. No sentence shares a word: it says so, naming
 * the question. Nothing is made up.
 */
export function extractiveAnswer(
  question: string,
  fragments: readonly MemoryFragment[],
  options: ExtractiveOptions = {},
): ExtractiveAnswer {
  const maxSentences = options.maxSentences ?? 3;
  const maxChars = options.maxChars ?? 1200;
  const note = options.note ?? 'No language model is reachable';
  let terms = new Set(contentWords(question));
  if (terms.size === 0) terms = new Set(words(question));

  const all: { fragment: number; position: number; text: string; words: Set<string> }[] = [];
  fragments.forEach((fragment, f) => {
    sentences(fragment.text).forEach((text, position) => {
      all.push({ fragment: f, position, text, words: new Set(words(text)) });
    });
  });
  const df = new Map<string, number>();
  for (const s of all) for (const t of terms) if (s.words.has(t)) df.set(t, (df.get(t) ?? 0) + 1);
  const best = fragments.reduce((m, f) => Math.max(m, f.score), 0) || 1;

  const scored = all
    .map((s) => {
      let overlap = 0;
      for (const t of terms) {
        if (s.words.has(t)) overlap += Math.log(1 + all.length / (df.get(t) ?? 1));
      }
      const fragmentScore = Math.max(0, fragments[s.fragment]?.score ?? 0) / best;
      // Overlap decides; the fragment's retrieval score and brevity break ties.
      const score =
        overlap > 0 ? (overlap * (1 + 0.25 * fragmentScore)) / Math.sqrt(1 + s.words.size / 25) : 0;
      return { ...s, score };
    })
    // A question (a remembered one, or a heading-like line) answers nothing: quote statements.
    .filter((s) => s.score > 0 && !s.text.trimEnd().endsWith('?'))
    .sort((a, b) => b.score - a.score || a.fragment - b.fragment || a.position - b.position);

  const chosen: typeof scored = [];
  let chars = 0;
  // A sentence matching less than half of what the best one matches is beside the point:
  // quoting it only because it shares one common word makes the answer worse.
  const floor = (scored[0]?.score ?? 0) * RELEVANCE_FLOOR;
  for (const s of scored) {
    if (chosen.length >= maxSentences || s.score < floor) break;
    if (chosen.length > 0 && chars + s.text.length > maxChars) continue;
    if (chosen.some((c) => c.text === s.text)) continue;
    chosen.push(s);
    chars += s.text.length;
  }
  if (chosen.length === 0) {
    return {
      text: `${OFFLINE_LABEL} ${note}, and nothing in memory matches "${question.trim()}".`,
      sources: [],
      sentences: [],
    };
  }
  chosen.sort((a, b) => a.fragment - b.fragment || a.position - b.position);
  const cited: number[] = [];
  const quoted = chosen.map((s) => {
    if (!cited.includes(s.fragment)) cited.push(s.fragment);
    return `${s.text} [${cited.indexOf(s.fragment) + 1}]`;
  });
  const sources = cited.map((f) => ({
    id: fragments[f]?.id ?? '',
    score: fragments[f]?.score ?? 0,
  }));
  return {
    text: `${OFFLINE_LABEL} ${note}; from memory: ${quoted.join(' ')}`,
    sources,
    sentences: chosen.map((s) => ({
      fragmentId: fragments[s.fragment]?.id ?? '',
      text: s.text,
      score: s.score,
    })),
  };
}
