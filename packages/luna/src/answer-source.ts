/** The sources of an answer as a door shows them: relevance, quote, the line to cite, a snippet. */
import type { MemoryFragment } from './memory.js';
import { GROUNDED_AT, type JudgedFragment } from './relevance.js';
import type { SourceRef } from './store.js';

/** A fragment an answer is built on, as the memory returned it. */
export interface AnswerSource extends SourceRef {
  /** Retrieval score, on the memory's own (relative) scale. */
  score: number;
  /**
   * 0 to 1, on one absolute scale whatever the retrieval mode: how much of the question the
   * fragment covers (see `judge`). `GROUNDED_AT` and above: it holds the answer.
   */
  relevance: number;
  /** Whether this fragment holds the answer (`relevance >= GROUNDED_AT`). */
  grounded: boolean;
  /** The fragment's text. */
  text: string;
  /** The sentence the answer quotes from it (or its most relevant one), with its subject. */
  quote: string | null;
  /**
   * The line of the fragment's file where that sentence starts (the fragment's `line`
   * metadata plus the sentence's line in it when the fragment's text is the file's as
   * written; else the fragment's `line`: a PDF fragment's page, a record's line), or null
   * when the fragment has no line.
   */
  line: number | null;
  /** `quote` (else the text) on one line, at most `SNIPPET_CHARS` characters, cut between words. */
  snippet: string;
  /** Where the memory keeps it (CARMA's namespace), or null when it has no namespaces. */
  namespace: string | null;
  /** The fragment's own fields: for an ingested note, `source` (its file), `line`, `offset`. */
  metadata: Record<string, unknown>;
}

/** Length of `AnswerSource.snippet`. */
export const SNIPPET_CHARS = 80;

/**
 * `text` on one line in at most `max` characters: whole when it fits, else cut at the last
 * space that leaves room for an ellipsis (mid-word only for a single word longer than that).
 */
export function snippet(text: string, max = SNIPPET_CHARS): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  // The ellipsis takes one character: cut before the last character that is not part of a
  // word, so that the last word is whole.
  const limit = max - 1;
  let at = limit;
  while (at > 0 && /[\p{L}\p{N}'’]/u.test(line.charAt(at))) at--;
  const cut = at > max / 3 ? line.slice(0, at) : line.slice(0, limit);
  return `${cut.replace(/[\s,;:([{-]+$/u, '')}…`;
}

/** The quote of a source: the one the answer used, else the fragment's most relevant sentence. */
function bestQuote(
  judged: JudgedFragment | undefined,
  used?: { quote: string; quoteLine: number },
): { quote: string; line: number } | undefined {
  if (used) return { quote: used.quote, line: used.quoteLine };
  const best = judged?.sentences.reduce<JudgedFragment['sentences'][number] | undefined>(
    (b, s) => (b === undefined || s.relevance > b.relevance ? s : b),
    undefined,
  );
  return best && best.relevance > 0 ? { quote: best.quote, line: best.line } : undefined;
}

/** Kinds of ingested fragments whose text is their file's as written. */
const WRITTEN = new Set(['text', 'markdown']);

/**
 * Whether a fragment of this ingest kind holds its file's text as written (a note, Markdown),
 * so that a line inside the fragment is a line of the file. A page's text, a PDF's (whose
 * line is its page) or a record's was made from the file. No kind: a note added by hand.
 */
export function writtenAsIs(kind: unknown): boolean {
  return kind === undefined || WRITTEN.has(String(kind));
}

/** An answer's source from what was stored of it, the fragment retrieved and its judgement. */
export function answerSource(
  ref: SourceRef & { quote?: string; quoteLine?: number },
  fragment: MemoryFragment | undefined,
  judged: JudgedFragment | undefined,
): AnswerSource {
  const text = fragment?.text ?? '';
  const relevance = ref.relevance ?? judged?.relevance ?? 0;
  const quoted = bestQuote(
    judged,
    ref.quote !== undefined && ref.quoteLine !== undefined
      ? { quote: ref.quote, quoteLine: ref.quoteLine }
      : undefined,
  );
  const metadata = { ...fragment?.metadata };
  const first = typeof metadata.line === 'number' ? metadata.line : null;
  const within = writtenAsIs(metadata.kind) ? (quoted?.line ?? 0) : 0;
  return {
    id: ref.id,
    score: ref.score,
    relevance,
    grounded: relevance >= GROUNDED_AT,
    text,
    quote: quoted?.quote ?? null,
    line: first === null ? null : first + within,
    snippet: snippet(quoted?.quote ?? text),
    namespace: fragment?.namespace ?? null,
    metadata,
  };
}
