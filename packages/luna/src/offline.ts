import type { MemoryFragment } from './memory.js';
import {
  cover,
  GROUNDED_AT,
  type JudgedFragment,
  type JudgedSentence,
  type Judgement,
  judge,
  type QuestionTerm,
  stemsWithNames,
} from './relevance.js';
import type { SourceRef } from './store.js';
import { sameStem, stem, words } from './text.js';

/**
 * Share of the best sentence's relevance below which a sentence is not quoted: one that
 * covers much less of the question than the best (the wifi note's "the cat's name" next
 * to "[Grandma Rose] is allergic to cats") is beside the point.
 */
const RELEVANCE_FLOOR = 0.75;

/** The label that starts every offline answer. */
export const OFFLINE_LABEL = '[offline]';

export interface ExtractiveOptions {
  /** Most sentences to quote (default 3). */
  maxSentences?: number;
  /** Most characters of quoted text (default 1200). */
  maxChars?: number;
  /** Why the answer is offline, said first (default: no language model is reachable). */
  note?: string;
  /**
   * The judgement of the fragments (`judge` of ./relevance), with IDF over the whole
   * memory; without it the fragments are judged with IDF over themselves.
   */
  judgement?: Judgement;
}

export interface ExtractedSentence {
  fragmentId: string;
  /** The sentence as it stands in the fragment. */
  text: string;
  /** As quoted: with its subject (`[Grandma Rose] is allergic to cats`). */
  quote: string;
  /** 0-based line of the fragment's text where the sentence starts. */
  line: number;
  /** 0 to 1, absolute: how much of the question the sentence (with its subject) covers. */
  score: number;
}

/** A fragment an offline answer quotes, with what it quotes. */
export interface QuotedSource extends SourceRef {
  /** 0 to 1, absolute: how well the fragment answers the question. */
  relevance: number;
  /** The first sentence quoted from it, as quoted. */
  quote: string;
  /** 0-based line of the fragment's text where that sentence starts. */
  quoteLine: number;
}

export interface ExtractiveAnswer {
  text: string;
  /** Whether memory holds the answer; when false, `sources` has what came closest. */
  grounded: boolean;
  /** The best relevance of the fragments, 0 to 1. */
  relevance: number;
  sources: QuotedSource[];
  sentences: ExtractedSentence[];
}

/** A sentence, or two in a row, that an answer can quote. */
export interface Candidate {
  fragment: number;
  judged: JudgedFragment;
  position: number;
  text: string;
  quote: string;
  line: number;
  score: number;
}

/** Words from the start of a sentence within which what it names is its subject. */
const SUBJECT_WORDS = 3;

/**
 * How plainly a sentence is about what the question asks about (its names, else its
 * rarest word): 2 when the sentence opens with it ("CARMA stores fragments..." for "What
 * does CARMA do?"), 1 when it names it further on ("...the SQLite database, the CARMA
 * memory and the configuration"), 0 when only its heading or the sentence before does.
 * Between sentences that cover as much of the question, the one about it is quoted first.
 */
function aboutness(text: string, terms: readonly QuestionTerm[]): number {
  const names = terms.filter((t) => t.entity);
  const rarest = terms.reduce<QuestionTerm | undefined>(
    (best, t) => (t.part === undefined && (!best || t.weight > best.weight) ? t : best),
    undefined,
  );
  const about = names.length > 0 ? names : rarest ? [rarest] : [];
  if (about.length === 0) return 0;
  const at = words(text).findIndex((w) => about.some((t) => sameStem(stem(w), t.stem)));
  return at === -1 ? 0 : at < SUBJECT_WORDS ? 2 : 1;
}

/** A question (a remembered one, or a heading-like line) answers nothing. */
const asks = (s: JudgedSentence) => s.text.trimEnd().endsWith('?');

/**
 * Every quotable sentence of the fragments, best first; and every two sentences in a row
 * that together cover more of the question than either does alone ("The schooner Grace
 * ran aground. Martha rowed out at dawn." answers who rowed out to the Grace, though
 * neither sentence does).
 */
function candidates(judgement: Judgement, only: (f: JudgedFragment) => boolean): Candidate[] {
  const out: Candidate[] = [];
  judgement.fragments.forEach((judged, fragment) => {
    if (!only(judged)) return;
    const { sentences } = judged;
    sentences.forEach((s, i) => {
      if (s.relevance > 0 && !asks(s)) {
        out.push({
          fragment,
          judged,
          position: s.position,
          text: s.text,
          quote: s.quote,
          line: s.line,
          score: s.relevance,
        });
      }
      const next = sentences[i + 1];
      if (!next || asks(s) || asks(next) || s.relevance + next.relevance <= 0) return;
      const stems = stemsWithNames([...s.context, ...next.context], `${s.text} ${next.text}`);
      const score = cover(judgement.terms, stems).score;
      if (score <= Math.max(s.relevance, next.relevance)) return;
      out.push({
        fragment,
        judged,
        position: s.position,
        text: `${s.text} ${next.text}`,
        quote: `${s.quote} ${next.text}`,
        line: s.line,
        score,
      });
    });
  });
  // Relevance decides; the fragment's, how plainly the sentence is about what was asked,
  // then brevity break ties.
  const about = new Map(out.map((c) => [c, aboutness(c.text, judgement.terms)]));
  return out.sort(
    (a, b) =>
      b.score - a.score ||
      b.judged.relevance - a.judged.relevance ||
      (about.get(b) ?? 0) - (about.get(a) ?? 0) ||
      a.fragment - b.fragment ||
      a.text.length - b.text.length ||
      a.position - b.position,
  );
}

export function sourcesOf(
  chosen: Candidate[],
  fragments: readonly MemoryFragment[],
): QuotedSource[] {
  const sources: QuotedSource[] = [];
  const cited: number[] = [];
  for (const c of chosen) {
    if (cited.includes(c.fragment)) continue;
    cited.push(c.fragment);
    sources.push({
      id: fragments[c.fragment]?.id ?? '',
      score: fragments[c.fragment]?.score ?? 0,
      relevance: c.judged.relevance,
      quote: c.quote,
      quoteLine: c.line,
    });
  }
  return sources;
}

/**
 * An answer built only from memory, on an absolute judgement of relevance. When some
 * fragment holds the answer (`GROUNDED_AT`), the sentences of such fragments that cover
 * the most of the question are quoted in fragment order, each with its subject (the
 * heading it sits under, or the sentence before that names it) and its citation, under
 * the `[offline]` label. When none does, the answer says plainly that memory does not hold
 * it, and quotes what came closest, labelled as such. Nothing is made up.
 */
export function extractiveAnswer(
  question: string,
  fragments: readonly MemoryFragment[],
  options: ExtractiveOptions = {},
): ExtractiveAnswer {
  const maxSentences = options.maxSentences ?? 3;
  const maxChars = options.maxChars ?? 1200;
  const note = options.note ?? 'No language model is reachable';
  const judgement = options.judgement ?? judge(question, fragments);
  const asked = question.trim();

  const chosen = chooseQuotes(judgement, { maxSentences, maxChars });
  if (chosen === undefined) return refusal(asked, fragments, judgement, note);
  return {
    text: `${OFFLINE_LABEL} ${note}; from memory: ${citedQuotes(chosen, fragments).join(' ')}`,
    grounded: true,
    relevance: judgement.relevance,
    sources: sourcesOf(chosen, fragments),
    sentences: chosen.map((c) => sentenceOf(c, fragments)),
  };
}

/**
 * The answer that memory does not hold the answer to `asked`, with what came closest,
 * labelled as such.
 */
export function refusal(
  asked: string,
  fragments: readonly MemoryFragment[],
  judgement: Judgement,
  note: string,
): ExtractiveAnswer {
  const [closest] = candidates(judgement, () => true);
  const text = `${OFFLINE_LABEL} ${note}, and memory holds nothing that answers "${asked}".`;
  if (!closest) return { text, grounded: false, relevance: 0, sources: [], sentences: [] };
  return {
    text: `${text} Closest (not an answer): ${closest.quote} [1]`,
    grounded: false,
    relevance: judgement.relevance,
    sources: sourcesOf([closest], fragments),
    sentences: [sentenceOf(closest, fragments)],
  };
}

/**
 * The sentences a grounded judgement quotes, in fragment order: those that cover the most
 * of the question, none already in `quoted` (an earlier part's); `undefined` when the
 * fragments do not hold the answer.
 */
export function chooseQuotes(
  judgement: Judgement,
  limits: { maxSentences: number; maxChars: number },
  quoted: readonly Candidate[] = [],
): Candidate[] | undefined {
  const ranked = candidates(judgement, (f) => f.relevance >= GROUNDED_AT);
  // Grounded, but only by words of a question (a remembered exchange's): nothing to quote.
  if (!judgement.grounded || ranked.length === 0) return undefined;
  const chosen: Candidate[] = [];
  let chars = quoted.reduce((n, c) => n + c.quote.length, 0);
  // The best is always quoted: a fragment can hold the answer by its words, heading and
  // file name together while no sentence, nor two in a row, covers half the question.
  const best = ranked[0]?.score ?? 0;
  const floor = Math.min(best, Math.max(GROUNDED_AT, best * RELEVANCE_FLOOR));
  for (const c of ranked) {
    if (chosen.length >= limits.maxSentences || c.score < floor) break;
    if (chars > 0 && chars + c.quote.length > limits.maxChars) continue;
    // A sentence already quoted, alone or with its neighbour, is not quoted again.
    if ([...quoted, ...chosen].some((s) => overlaps(s, c))) continue;
    chosen.push(c);
    chars += c.quote.length;
  }
  return chosen.sort((a, b) => a.fragment - b.fragment || a.position - b.position);
}

/** Each chosen sentence as quoted, with the number of its source. */
export function citedQuotes(chosen: Candidate[], fragments: readonly MemoryFragment[]): string[] {
  const sources = sourcesOf(chosen, fragments);
  return chosen.map((c) => {
    const n = sources.findIndex((s) => s.id === (fragments[c.fragment]?.id ?? '')) + 1;
    return `${c.quote} [${n}]`;
  });
}

/** Whether two candidates quote a sentence in common (the same text, or one in the other). */
function overlaps(a: Candidate, b: Candidate): boolean {
  if (a.text === b.text) return true;
  if (a.fragment !== b.fragment) return false;
  return a.text.includes(b.text) || b.text.includes(a.text);
}

export function sentenceOf(c: Candidate, fragments: readonly MemoryFragment[]): ExtractedSentence {
  return {
    fragmentId: fragments[c.fragment]?.id ?? '',
    text: c.text,
    quote: c.quote,
    line: c.line,
    score: c.score,
  };
}
