import { useEffect, useRef, useState } from 'preact/hooks';
import { ScopeNote, useAccess } from '../access';
import { api, ok } from '../api/client';
import { type ApiError, asApiError } from '../api/errors';
import { Confirm } from '../components/confirm';
import { ErrorNote } from '../components/error-note';
import { useDebounced, useLoad } from '../hooks';
import { AddNote } from '../memories/add-note';
import {
  type Filters,
  listQuery,
  NO_FILTERS,
  type SearchMode,
  searchFilter,
} from '../memories/filters';
import { FragmentDetail } from '../memories/fragment-detail';
import { ImportDrop } from '../memories/import-drop';
import { Results } from '../memories/results';
import type { Row } from '../memories/types';
import { navigate, usePath } from '../router';

const PAGE_SIZE = 50;
const SEARCH_K = 50;
/** Typing pauses this long before a search is sent (older answers are dropped). */
const DEBOUNCE_MS = 120;

interface Listing {
  rows: Row[];
  nextCursor: string | null;
  fallback?: string;
}

/** Browses a page of the memory (no query) or searches it, newest request winning. */
function useListing(
  query: string,
  mode: SearchMode,
  filters: Filters,
  cursor: string | null,
  tick: number,
) {
  const [state, setState] = useState<{ listing?: Listing; error?: ApiError; loading: boolean }>({
    loading: true,
  });
  const latest = useRef<AbortController | null>(null);
  useEffect(() => {
    latest.current?.abort();
    const controller = new AbortController();
    latest.current = controller;
    setState((s) => ({ ...s, loading: true }));
    const run = async (): Promise<Listing> => {
      if (query.trim() === '') {
        const page = await ok(
          api.GET('/v1/memory', {
            params: {
              query: {
                limit: PAGE_SIZE,
                ...(cursor ? { cursor } : {}),
                ...listQuery(filters),
              },
            },
            signal: controller.signal,
          }),
        );
        return { rows: page.items.map((fragment) => ({ fragment })), nextCursor: page.nextCursor };
      }
      const filter = searchFilter(filters);
      const answer = await ok(
        api.POST('/v1/memory/search', {
          body: {
            query,
            k: SEARCH_K,
            mode,
            explain: true,
            ...(filters.namespace ? { namespace: filters.namespace } : {}),
            ...(filter ? { filter } : {}),
          },
          signal: controller.signal,
        }),
      );
      return {
        rows: answer.results.map((r) => ({
          fragment: r.fragment,
          score: r.score,
          ...(r.explain ? { explain: r.explain } : {}),
        })),
        nextCursor: null,
        ...(answer.fallback
          ? {
              fallback: `${answer.fallback.from} search fell back to ${answer.mode}: ${answer.fallback.reason}`,
            }
          : {}),
      };
    };
    run().then(
      (listing) => {
        if (!controller.signal.aborted) setState({ listing, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState({ error: asApiError(error), loading: false });
      },
    );
    return () => controller.abort();
  }, [query, mode, filters, cursor, tick]);
  return state;
}

function FilterControls({
  filters,
  onChange,
  version,
}: {
  filters: Filters;
  onChange: (f: Filters) => void;
  /** Changes when fragments were added or removed: the namespaces are read again. */
  version: number;
}) {
  const namespaces = useLoad(
    async () => (await ok(api.GET('/v1/memory/namespaces'))).items,
    [version],
  );
  const field = (key: keyof Filters) => ({
    value: filters[key],
    onInput: (e: Event) => onChange({ ...filters, [key]: (e.target as HTMLInputElement).value }),
  });
  return (
    <fieldset class="filters">
      <legend>Filters</legend>
      <div>
        <label for="filter-namespace">Namespace</label>
        <select
          id="filter-namespace"
          value={filters.namespace}
          onChange={(e) =>
            onChange({ ...filters, namespace: (e.target as HTMLSelectElement).value })
          }
        >
          <option value="">All</option>
          {namespaces.data?.map((n) => (
            <option key={n.name} value={n.name}>
              {n.name} ({n.fragments})
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="filter-source">Source</label>
        <input id="filter-source" maxLength={4096} {...field('source')} />
      </div>
      <div>
        <label for="filter-from">Created from</label>
        <input id="filter-from" type="date" {...field('from')} />
      </div>
      <div>
        <label for="filter-to">Created to</label>
        <input id="filter-to" type="date" {...field('to')} />
      </div>
      <div>
        <label for="filter-min">Importance at least</label>
        <input
          id="filter-min"
          type="number"
          min={0}
          max={1}
          step={0.1}
          {...field('minImportance')}
        />
      </div>
      <div>
        <label for="filter-max">Importance at most</label>
        <input
          id="filter-max"
          type="number"
          min={0}
          max={1}
          step={0.1}
          {...field('maxImportance')}
        />
      </div>
    </fieldset>
  );
}

/**
 * Search as you type (hybrid, vector or lexical, with why each result matched), browse a
 * page at a time, filter, open a fragment to edit it or see its history, delete in bulk,
 * remember a note, and import files.
 */
export function MemoriesPage() {
  const path = usePath();
  const { can } = useAccess();
  const writable = can('memory:write');
  const opened = path.startsWith('/memories/')
    ? decodeURIComponent(path.slice('/memories/'.length))
    : null;
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState<SearchMode>('hybrid');
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [tick, setTick] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [bulk, setBulk] = useState<{ done: number; total: number; error?: ApiError }>();
  const settled = useDebounced(query, DEBOUNCE_MS);
  const cursor = cursors.at(-1) ?? null;
  const { listing, error, loading } = useListing(settled, mode, filters, cursor, tick);
  const refresh = () => setTick((t) => t + 1);
  // A new query or filter starts again at the first page, with nothing selected.
  useEffect(() => {
    setCursors([null]);
    setSelected(new Set());
  }, [settled, mode, filters]);

  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const deleteSelected = async () => {
    setConfirming(false);
    const ids = [...selected];
    setBulk({ done: 0, total: ids.length });
    for (const [i, id] of ids.entries()) {
      try {
        await ok(api.DELETE('/v1/memory/{id}', { params: { path: { id } } }));
      } catch (failure) {
        setBulk({ done: i, total: ids.length, error: asApiError(failure) });
        refresh();
        return;
      }
      setBulk({ done: i + 1, total: ids.length });
    }
    setSelected(new Set());
    refresh();
  };

  if (opened) {
    return (
      <FragmentDetail
        id={opened}
        onClose={() => navigate('/memories')}
        onChanged={refresh}
        editable={writable}
      />
    );
  }
  const searching = settled.trim() !== '';
  const rows = listing?.rows ?? [];
  return (
    <>
      <search class="search">
        <label for="memory-query">Search memories</label>
        <div class="search-row">
          <input
            id="memory-query"
            type="search"
            placeholder="Type to search…"
            value={query}
            maxLength={200_000}
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
          />
          <label for="memory-mode" class="inline-label">
            Mode
          </label>
          <select
            id="memory-mode"
            value={mode}
            onChange={(e) => setMode((e.target as HTMLSelectElement).value as SearchMode)}
          >
            <option value="hybrid">hybrid</option>
            <option value="vector">vector</option>
            <option value="lexical">lexical</option>
          </select>
        </div>
        <FilterControls filters={filters} onChange={setFilters} version={tick} />
      </search>
      <ErrorNote error={error} />
      {listing?.fallback && <p class="notice">{listing.fallback}</p>}
      <div class="list-head">
        <p
          role="status"
          aria-live="polite"
          data-testid="result-count"
          data-loading={loading ? 'true' : 'false'}
        >
          {loading
            ? 'Loading…'
            : error
              ? searching
                ? 'The search failed: no result to show.'
                : 'The fragments could not be read.'
              : searching
                ? `${rows.length} result(s) for “${settled}”`
                : `${rows.length} fragment(s) on this page`}
        </p>
        {writable && (
          <button
            type="button"
            class="danger"
            disabled={selected.size === 0}
            onClick={() => setConfirming(true)}
          >
            Delete selected ({selected.size})
          </button>
        )}
      </div>
      {bulk && (
        <p role="status">
          Deleted {bulk.done} of {bulk.total}
          {bulk.error && (
            <>
              ; stopped: <code>{bulk.error.code}</code> {bulk.error.message}
            </>
          )}
        </p>
      )}
      <Results
        rows={rows}
        selected={selected}
        onToggle={writable ? toggle : undefined}
        label={searching ? 'Search results' : 'Fragments'}
      />
      {!searching && (
        <div class="actions">
          <button
            type="button"
            disabled={cursors.length <= 1}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            Previous page
          </button>
          <button
            type="button"
            disabled={!listing?.nextCursor}
            onClick={() => {
              const next = listing?.nextCursor;
              if (next) setCursors((c) => [...c, next]);
            }}
          >
            Next page
          </button>
        </div>
      )}
      {writable ? (
        <AddNote onAdded={refresh} />
      ) : (
        <ScopeNote scope="memory:write">
          Remembering notes, editing and deleting fragments
        </ScopeNote>
      )}
      {can('ingest') ? (
        <ImportDrop onImported={refresh} />
      ) : (
        <ScopeNote scope="ingest">Importing files</ScopeNote>
      )}
      <Confirm
        open={confirming}
        title={`Delete ${selected.size} fragment(s)?`}
        confirmLabel="Delete"
        danger
        onConfirm={() => void deleteSelected()}
        onCancel={() => setConfirming(false)}
      >
        <p>They are no longer found or used in answers; their history stays readable.</p>
      </Confirm>
    </>
  );
}
