/** The sources of a stored answer, as the answer showed them, for `aios conversations show`. */
import type { Memory } from '@aios/carma';
import type { StoredSource } from '@aios/luna';
import { describeSources, type SourceView } from './answers.js';

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
        chapter: s.chapter,
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
