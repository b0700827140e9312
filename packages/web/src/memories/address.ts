import { MAX_LENGTH } from '../api/max-length.gen';
import { type Filters, NO_FILTERS, SEARCH_MODES, type SearchMode } from './filters';

/**
 * The list's place in the address (`/memories?q=…&page=…&mode=…&namespace=…`), so that
 * reload, Back and Forward and a shared link keep the search, its mode, the filters and
 * the page. What the list opens with (page 1, no search, hybrid, no filter) is left out:
 * `/memories` is the list as it opens. A value that is none of its kind (a mode the server
 * does not have, a day that is no date) is read as not set.
 */
export interface ListAddress {
  query: string;
  page: number;
  mode: SearchMode;
  filters: Filters;
}

export const LIST_PATH = '/memories';

const DEFAULT_MODE: SearchMode = 'hybrid';

/** The filters in the address, under the names of their fields. */
const FILTER_KEYS = Object.keys(NO_FILTERS) as Array<keyof Filters>;

/** A yyyy-mm-dd day that exists (what a date input gives). */
function isDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00`);
  return !Number.isNaN(date.getTime()) && date.getDate() === Number(value.slice(8));
}

function isNumber(value: string): boolean {
  return value.trim() !== '' && Number.isFinite(Number(value));
}

/** Whether `value` can be what the filter's control holds. */
const VALID: Record<keyof Filters, (value: string) => boolean> = {
  namespace: (value) => value.length <= MAX_LENGTH['GET /v1/memory'].namespace,
  source: (value) => value.length <= MAX_LENGTH['GET /v1/memory'].source,
  from: isDay,
  to: isDay,
  minImportance: isNumber,
  maxImportance: isNumber,
};

function modeOf(value: string | null): SearchMode {
  return SEARCH_MODES.find((m) => m === value) ?? DEFAULT_MODE;
}

export function listAddressOf(search: string): ListAddress {
  const params = new URLSearchParams(search);
  const page = Number.parseInt(params.get('page') ?? '', 10);
  const filters = { ...NO_FILTERS };
  for (const key of FILTER_KEYS) {
    const value = params.get(key) ?? '';
    if (VALID[key](value)) filters[key] = value;
  }
  return {
    query: params.get('q') ?? '',
    page: Number.isSafeInteger(page) && page > 1 ? page : 1,
    mode: modeOf(params.get('mode')),
    filters,
  };
}

export function listHref({ query, page, mode, filters }: ListAddress): string {
  const params = new URLSearchParams();
  if (query !== '') params.set('q', query);
  if (page > 1) params.set('page', String(page));
  if (mode !== DEFAULT_MODE) params.set('mode', mode);
  for (const key of FILTER_KEYS) {
    if (filters[key] !== '') params.set(key, filters[key]);
  }
  const search = params.toString();
  return search ? `${LIST_PATH}?${search}` : LIST_PATH;
}

/** Whether `href` (path and query string) is the list rather than one of its fragments. */
export function isListHref(href: string): boolean {
  return href === LIST_PATH || href.startsWith(`${LIST_PATH}?`);
}
