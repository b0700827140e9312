import { describe, expect, it } from 'vitest';
import { citationOf, storedCitationOf } from './citations';

// A passage of a book is cited by its chapter, live and in a reopened conversation.
describe('citations', () => {
  const live = {
    id: 'f1',
    text: 'Martha rowed out to the schooner at dawn.',
    score: 0.8,
    relevance: 0.9,
    grounded: true,
    quote: 'Martha rowed out to the schooner at dawn.',
    line: 12,
    snippet: 'Martha rowed out…',
    namespace: 'default',
    source: 'keeper.epub',
    metadata: { source: 'keeper.epub', kind: 'epub', chapter: 'The Storm' },
  };

  it('name the chapter of a book passage as the answer streams in', () => {
    expect(citationOf(live).detail).toBe(
      'keeper.epub, "The Storm" · relevance 0.9 · holds the answer',
    );
    expect(citationOf({ ...live, metadata: { source: 'keeper.epub' } }).detail).toMatch(
      /^keeper\.epub · /,
    );
  });

  it('name it in a stored answer too', () => {
    const stored = {
      id: 'f1',
      score: 0.8,
      relevance: 0.9,
      excerpt: 'Martha rowed out to the schooner at dawn.',
      grounded: true,
      source: 'keeper.epub',
      line: 12,
      chapter: 'The Storm',
      namespace: 'default',
    };
    expect(storedCitationOf(stored).detail).toMatch(/^keeper\.epub, "The Storm" · /);
    expect(storedCitationOf({ ...stored, chapter: null }).detail).toMatch(/^keeper\.epub · /);
  });
});
