/**
 * The list's place in the address (`/memories?q=…&page=…`), so that reload, Back and
 * Forward and a shared link keep the search and the page. Page 1 and no search are left
 * out: `/memories` is the list as it opens.
 */
export interface ListAddress {
  query: string;
  page: number;
}

export const LIST_PATH = '/memories';

export function listAddressOf(search: string): ListAddress {
  const params = new URLSearchParams(search);
  const page = Number.parseInt(params.get('page') ?? '', 10);
  return { query: params.get('q') ?? '', page: Number.isSafeInteger(page) && page > 1 ? page : 1 };
}

export function listHref({ query, page }: ListAddress): string {
  const params = new URLSearchParams();
  if (query !== '') params.set('q', query);
  if (page > 1) params.set('page', String(page));
  const search = params.toString();
  return search ? `${LIST_PATH}?${search}` : LIST_PATH;
}

/** Whether `href` (path and query string) is the list rather than one of its fragments. */
export function isListHref(href: string): boolean {
  return href === LIST_PATH || href.startsWith(`${LIST_PATH}?`);
}
