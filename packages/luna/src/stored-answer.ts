/**
 * Reading back what Luna stored with an answer (its message's `metadata.luna`, written by
 * the data-backed conversation store): the one reader of that format, for every door that
 * shows a stored conversation (the CLI, the HTTP API).
 */
import type { Message } from '@aios/data';

/** A source of a stored answer, each field null where an older answer did not keep it. */
export interface StoredSource {
  id: string;
  score: number;
  relevance: number | null;
  /** What the answer quoted of it, on one line. */
  excerpt: string | null;
  grounded: boolean | null;
  source: string | null;
  line: number | null;
  /** The chapter of a book it is in (an EPUB's fragments). */
  chapter: string | null;
  namespace: string | null;
}

export interface StoredAnswer {
  mode: 'llm' | 'offline' | null;
  /** Null for a message that is not one of Luna's answers. */
  sources: StoredSource[] | null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const orNull = <T>(value: unknown, type: 'string' | 'number' | 'boolean'): T | null =>
  typeof value === type ? (value as T) : null;

/** The mode and sources Luna kept with answer message `m`. */
export function storedAnswer(m: Message): StoredAnswer {
  const luna = m.metadata.luna;
  const exchange = isObject(luna) && luna.part === 'answer' ? luna.exchange : undefined;
  if (!isObject(exchange)) return { mode: null, sources: null };
  const mode = exchange.mode === 'llm' || exchange.mode === 'offline' ? exchange.mode : null;
  const sources = Array.isArray(exchange.sources)
    ? exchange.sources.filter(isObject).map((s) => ({
        id: String(s.id),
        score: typeof s.score === 'number' ? s.score : 0,
        relevance: orNull<number>(s.relevance, 'number'),
        excerpt: orNull<string>(s.excerpt, 'string'),
        grounded: orNull<boolean>(s.grounded, 'boolean'),
        source: orNull<string>(s.source, 'string'),
        line: orNull<number>(s.line, 'number'),
        chapter: orNull<string>(s.chapter, 'string'),
        namespace: orNull<string>(s.namespace, 'string'),
      }))
    : null;
  return { mode, sources };
}
