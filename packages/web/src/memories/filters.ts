import type { paths } from '../api/schema.gen';

type SearchBody = paths['/v1/memory/search']['post']['requestBody']['content']['application/json'];

export type SearchMode = NonNullable<SearchBody['mode']>;
/** Every mode the server searches in, in the order the page offers them (all: checked). */
export const SEARCH_MODES = Object.keys({
  hybrid: true,
  vector: true,
  lexical: true,
} satisfies Record<SearchMode, true>) as readonly SearchMode[];
type ListQuery = NonNullable<paths['/v1/memory']['get']['parameters']['query']>;

/** What the filter controls of the Memories page hold (empty strings: not set). */
export interface Filters {
  namespace: string;
  source: string;
  /** yyyy-mm-dd, local days, both included. */
  from: string;
  to: string;
  minImportance: string;
  maxImportance: string;
}

export const NO_FILTERS: Filters = {
  namespace: '',
  source: '',
  from: '',
  to: '',
  minImportance: '',
  maxImportance: '',
};

/** Start of local day `day` (yyyy-mm-dd) in ms; the end of `to` is the start of the next day. */
function dayStart(day: string): number {
  return new Date(`${day}T00:00:00`).getTime();
}
function dayAfter(day: string): number {
  const date = new Date(`${day}T00:00:00`);
  date.setDate(date.getDate() + 1);
  return date.getTime();
}

function importance(value: string): number | undefined {
  if (value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : undefined;
}

/** The search request's `filter` (CARMA's filter: fields with $-operators), or undefined. */
export function searchFilter(f: Filters): SearchBody['filter'] {
  const filter: Record<string, unknown> = {};
  if (f.source.trim()) filter.source = f.source.trim();
  const created: Record<string, number> = {};
  if (f.from) created.$gte = dayStart(f.from);
  if (f.to) created.$lt = dayAfter(f.to);
  if (Object.keys(created).length > 0) filter.createdAt = created;
  const weight: Record<string, number> = {};
  const min = importance(f.minImportance);
  const max = importance(f.maxImportance);
  if (min !== undefined) weight.$gte = min;
  if (max !== undefined) weight.$lte = max;
  if (Object.keys(weight).length > 0) filter.importance = weight;
  return Object.keys(filter).length > 0 ? filter : undefined;
}

/** The list request's query for the same filters (without paging). */
export function listQuery(f: Filters): Omit<ListQuery, 'limit' | 'cursor'> {
  const q: Omit<ListQuery, 'limit' | 'cursor'> = {};
  if (f.namespace) q.namespace = f.namespace;
  if (f.source.trim()) q.source = f.source.trim();
  if (f.from) q.from = new Date(dayStart(f.from)).toISOString();
  if (f.to) q.to = new Date(dayAfter(f.to)).toISOString();
  const min = importance(f.minImportance);
  const max = importance(f.maxImportance);
  if (min !== undefined) q.minImportance = min;
  if (max !== undefined) q.maxImportance = max;
  return q;
}
