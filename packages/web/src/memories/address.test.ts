import { describe, expect, it } from 'vitest';
import { MAX_LENGTH } from '../api/max-length.gen';
import { isListHref, type ListAddress, listAddressOf, listHref } from './address';
import { NO_FILTERS } from './filters';

const LIST: ListAddress = { query: '', page: 1, mode: 'hybrid', filters: NO_FILTERS };

describe("the list's address", () => {
  it('reads back what it writes, leaving out what the list opens with', () => {
    expect(listHref(LIST)).toBe('/memories');
    expect(listHref({ ...LIST, query: 'tea & cake' })).toBe('/memories?q=tea+%26+cake');
    const address: ListAddress = {
      query: 'tea & cake',
      page: 3,
      mode: 'lexical',
      filters: {
        namespace: 'work notes',
        source: 'a.md',
        from: '2026-02-28',
        to: '2026-03-01',
        minImportance: '0.2',
        maxImportance: '0.9',
      },
    };
    const href = listHref(address);
    expect(listAddressOf(href.slice(href.indexOf('?')))).toEqual(address);
  });

  it('takes a page that is not a page number as the first', () => {
    for (const page of ['0', '-2', 'x', '', '1e99']) {
      expect(listAddressOf(`?page=${page}`).page).toBe(1);
    }
  });

  it('reads a mode or a filter that is none of its kind as not set', () => {
    const read = listAddressOf(
      '?mode=fuzzy&from=2026-02-30&to=tomorrow&minImportance=lots&maxImportance=&namespace=a',
    );
    expect(read.mode).toBe('hybrid');
    expect(read.filters).toEqual({ ...NO_FILTERS, namespace: 'a' });
    expect(listHref(read)).toBe('/memories?namespace=a');
    expect(listAddressOf('?mode=vector').mode).toBe('vector');
    const tooLong = 'n'.repeat(MAX_LENGTH['GET /v1/memory'].namespace + 1);
    expect(listAddressOf(`?namespace=${tooLong}`).filters.namespace).toBe('');
  });

  it('tells the list from a fragment', () => {
    expect(isListHref('/memories?page=2')).toBe(true);
    expect(isListHref('/memories')).toBe(true);
    expect(isListHref('/memories/abc')).toBe(false);
    expect(isListHref('/chat')).toBe(false);
  });
});
