/** The sources of a stored answer, as the answer showed them, for `aios conversations show`. */
import type { Memory } from '@aios/carma';
import type { Message } from '@aios/data';
import { describeSources, type SourceView } from './answers.js';

/** A source as Luna stored it with the answer (older answers have only id, score, relevance). */
export interface StoredSource {
  id: string;
  score: number;
  relevance: number | null;
  /** What the answer quoted of it, on one line; null in answers stored before it was kept. */
  excerpt: string | null;
  grounded: boolean | null;
  source: string | null;
  line: number | null;
  namespace: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const orNull = <T>(value: unknown, type: 'string' | 'number' | 'boolean'): T | null =>
  typeof value === type ? (value as T) : null;

/** The sources Luna kept with an answer message (`metadata.luna.exchange.sources`). */
export function storedSources(answer: Message): StoredSource[] {
  const luna = answer.metadata.luna;
  const exchange = isObject(luna) ? luna.exchange : undefined;
  const sources = isObject(exchange) ? exchange.sources : undefined;
  if (!Array.isArray(sources)) return [];
  return sources.filter(isObject).map((s) => ({
    id: String(s.id),
    score: typeof s.score === 'number' ? s.score : 0,
    relevance: orNull<number>(s.relevance, 'number'),
    excerpt: orNull<string>(s.excerpt, 'string'),
    grounded: orNull<boolean>(s.grounded, 'boolean'),
    source: orNull<string>(s.source, 'string'),
    line: orNull<number>(s.line, 'number'),
    namespace: orNull<string>(s.namespace, 'string'),
  }));
}

/**
 * The stored sources as `sourceLine` lists them. What the answer showed is used as stored;
 * an answer stored before that was kept has its fragments looked up, and one deleted since
 * is listed by its id alone.
 */
export async function storedSourceViews(
  memory: Memory,
  sources: readonly StoredSource[],
): Promise<SourceView[]> {
  const views: SourceView[] = [];
  for (const s of sources) {
    const relevance = s.relevance === null ? {} : { relevance: s.relevance };
    if (s.excerpt !== null) {
      views.push({
        id: s.id,
        score: s.score,
        ...relevance,
        quote: s.excerpt,
        source: s.source,
        line: s.line,
        offset: null,
        namespace: s.namespace,
        text: s.excerpt,
      });
    } else {
      const [looked] = await describeSources(memory, [s]);
      if (looked) views.push({ ...looked, ...relevance });
    }
  }
  return views;
}
