import { describe, expect, it } from 'vitest';
import { isListHref, listAddressOf, listHref } from './address';

describe("the list's address", () => {
  it('reads back what it writes, leaving out page 1 and an empty search', () => {
    expect(listHref({ query: '', page: 1 })).toBe('/memories');
    expect(listHref({ query: 'tea & cake', page: 1 })).toBe('/memories?q=tea+%26+cake');
    const href = listHref({ query: 'tea & cake', page: 3 });
    expect(listAddressOf(href.slice(href.indexOf('?')))).toEqual({ query: 'tea & cake', page: 3 });
  });

  it('takes a page that is not a page number as the first', () => {
    for (const page of ['0', '-2', 'x', '', '1e99']) {
      expect(listAddressOf(`?page=${page}`).page).toBe(1);
    }
  });

  it('tells the list from a fragment', () => {
    expect(isListHref('/memories?page=2')).toBe(true);
    expect(isListHref('/memories')).toBe(true);
    expect(isListHref('/memories/abc')).toBe(false);
    expect(isListHref('/chat')).toBe(false);
  });
});
