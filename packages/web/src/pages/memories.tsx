import { useEffect, useRef, useState } from 'preact/hooks';
import { ScopeNote, useAccess } from '../access';
import { api, ok } from '../api/client';
import { type ApiError, asApiError } from '../api/errors';
import { MAX_LENGTH } from '../api/max-length.gen';
import { Confirm } from '../components/confirm';
import { ErrorNote } from '../components/error-note';
import { AddNote } from '../memories/add-note';
import {
  isListHref,
  LIST_PATH,
  type ListAddress,
  listAddressOf,
  listHref,
} from '../memories/address';
import { FilterControls } from '../memories/filter-controls';
import {
  type Filters,
  listQuery,
  SEARCH_MODES,
  type SearchMode,
  searchFilter,
} from '../memories/filters';
import { FragmentDetail } from '../memories/fragment-detail';
import { ImportDrop } from '../memories/import-drop';
import { Results } from '../memories/results';
import type { Row } from '../memories/types';
import { cameFrom, currentPath, currentSearch, navigate, usePath, useSearch } from '../router';

const PAGE_SIZE = 50;
const SEARCH_K = 50;
/** Typing pauses this long before a search is sent (older answers are dropped). */
const DEBOUNCE_MS = 120;

function searchingFor(query: string): boolean {
  return query.trim() !== '';
}

interface Listing {
  rows: Row[];
  nextCursor: string | null;
  /** The page asked for, and the one shown: the last when the one asked for is past the end. */
  asked: number;
  page: number;
  fallback?: string;
}

/** The cursors of the browsed list by page (page 1 has none), learnt by following them. */
type Cursors = Map<number, string | null>;

/**
 * Browses a page of the memory (no query) or searches it, newest request winning. A page
 * whose cursor is not known yet (from the address: a reload, a shared link) is reached by
 * following the pages before it, as the list's cursors allow nothing else.
 */
function useListing(query: string, mode: SearchMode, filters: Filters, page: number, tick: number) {
  const [state, setState] = useState<{ listing?: Listing; error?: ApiError; loading: boolean }>({
    loading: true,
  });
  const latest = useRef<AbortController | null>(null);
  // The filters are read from the address at each render: they are compared by value.
  const filtersKey = JSON.stringify(filters);
  const cursors = useRef<{ filtersKey: string; byPage: Cursors }>({
    filtersKey,
    byPage: new Map([[1, null]]),
  });
  if (cursors.current.filtersKey !== filtersKey) {
    cursors.current = { filtersKey, byPage: new Map([[1, null]]) };
  }
  useEffect(() => {
    latest.current?.abort();
    const controller = new AbortController();
    latest.current = controller;
    setState((s) => ({ ...s, loading: true }));
    const browse = (cursor: string | null) =>
      ok(
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
    const run = async (): Promise<Listing> => {
      if (!searchingFor(query)) {
        const known = cursors.current.byPage;
        let at = page;
        while (at > 1 && !known.has(at)) at--;
        let answer = await browse(known.get(at) ?? null);
        while (at < page && answer.nextCursor) {
          at++;
          known.set(at, answer.nextCursor);
          answer = await browse(answer.nextCursor);
        }
        if (answer.nextCursor) known.set(at + 1, answer.nextCursor);
        return {
          rows: answer.items.map((fragment) => ({ fragment })),
          nextCursor: answer.nextCursor,
          asked: page,
          page: at,
        };
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
        asked: page,
        page: 1,
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
  }, [query, mode, filtersKey, page, tick]);
  return state;
}

/**
 * Search as you type (hybrid, vector or lexical, with why each result matched), browse a
 * page at a time, filter, open a fragment to edit it or see its history, delete in bulk,
 * remember a note, and import files.
 */
export function MemoriesPage() {
  const path = usePath();
  const search = useSearch();
  const { can } = useAccess();
  const writable = can('memory:write');
  const opened = path.startsWith('/memories/')
    ? decodeURIComponent(path.slice('/memories/'.length))
    : null;
  // The list keeps its address while a fragment is open, to be shown again as it was.
  const listSearch = useRef(search);
  if (!opened) listSearch.current = search;
  const address = listAddressOf(listSearch.current);
  const [query, setQuery] = useState(address.query);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [tick, setTick] = useState(0);
  const [confirming, setConfirming] = useState(false);
  const [bulk, setBulk] = useState<{ done: number; total: number; error?: ApiError }>();
  const { listing, error, loading } = useListing(
    address.query,
    address.mode,
    address.filters,
    address.page,
    tick,
  );
  const refresh = () => setTick((t) => t + 1);
  // The search is put in the address once typing pauses (older answers are dropped); it
  // replaces the entry, as each letter is no place to go back to.
  const typing = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  /** The search typing last put in the address, until the page has seen it there. */
  const typed = useRef<string | undefined>(undefined);
  useEffect(() => () => clearTimeout(typing.current), []);
  const type = (text: string) => {
    setQuery(text);
    clearTimeout(typing.current);
    typing.current = setTimeout(() => {
      // The mode and filters as they are now: one may have changed while typing paused.
      const href = listHref({ ...listAddressOf(currentSearch()), query: text, page: 1 });
      if (currentPath() !== LIST_PATH || href === currentPath() + currentSearch()) return;
      typed.current = text;
      navigate(href, { replace: true });
    }, DEBOUNCE_MS);
  };
  // A search from the address (Back, Forward, a link) is shown in the box, with nothing
  // selected. One that typing put there is not shown again: the box may hold more by
  // now (keys pressed while the page caught up), which would be lost.
  useEffect(() => {
    if (typed.current === address.query) typed.current = undefined;
    else setQuery(address.query);
    setSelected(new Set());
  }, [address.query]);
  // A page past the end of the list is shown as the last page, and so named in the address.
  const pastTheEnd = !searchingFor(address.query) && listing && listing.page < listing.asked;
  const lastPage = pastTheEnd && listing.asked === address.page ? listing.page : null;
  useEffect(() => {
    if (!opened && lastPage !== null)
      navigate(listHref({ ...listAddressOf(currentSearch()), page: lastPage }), { replace: true });
  }, [opened, lastPage]);
  // An address holding what is no mode, filter or page is replaced by the one it is read
  // as, so that what the address says is what the page shows. The address is read as it is
  // now, not as rendered: keys typed since then have moved it on.
  useEffect(() => {
    if (opened || currentPath() !== LIST_PATH) return;
    const canonical = listHref(listAddressOf(currentSearch()));
    if (canonical !== LIST_PATH + currentSearch()) navigate(canonical, { replace: true });
  }, [opened, search]);
  /** The field typed in last, and the address its change made. */
  const typedIn = useRef<{ field: keyof Filters; href: string } | undefined>(undefined);
  /**
   * Another mode or other filters start again at the first page, with nothing selected, as
   * a new entry of the history (Back undoes it). What is typed in one field in a row (the
   * letters of a source, the digits of a day) is one entry, each change replacing the last.
   */
  const refine = (change: (now: ListAddress) => Partial<ListAddress>, typed?: keyof Filters) => {
    // From the address as it is now: a key may have moved it on since the last render.
    const now = listAddressOf(currentSearch());
    const href = listHref({ ...now, ...change(now), page: 1 });
    const here = currentPath() + currentSearch();
    const again =
      typed !== undefined && typedIn.current?.field === typed && typedIn.current.href === here;
    typedIn.current = typed === undefined ? undefined : { field: typed, href };
    setSelected(new Set());
    navigate(href, { replace: again });
  };
  const filter = (key: keyof Filters, value: string) =>
    refine(
      (now) => ({ filters: { ...now.filters, [key]: value } }),
      key === 'namespace' ? undefined : key,
    );
  const turnTo = (page: number) => navigate(listHref({ ...address, query: '', page }));
  const backToList = () => {
    const from = cameFrom();
    if (from !== null && isListHref(from)) history.back();
    else navigate(LIST_PATH, { replace: true });
  };

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
      <FragmentDetail id={opened} onClose={backToList} onChanged={refresh} editable={writable} />
    );
  }
  const settled = address.query;
  const searching = searchingFor(settled);
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
            maxLength={MAX_LENGTH['POST /v1/memory/search'].query}
            onInput={(e) => type((e.target as HTMLInputElement).value)}
          />
          <label for="memory-mode" class="inline-label">
            Mode
          </label>
          <select
            id="memory-mode"
            value={address.mode}
            onChange={(e) =>
              refine(() => ({ mode: (e.target as HTMLSelectElement).value as SearchMode }))
            }
          >
            {SEARCH_MODES.map((mode) => (
              <option key={mode} value={mode}>
                {mode}
              </option>
            ))}
          </select>
        </div>
        <FilterControls filters={address.filters} onChange={filter} version={tick} />
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
            disabled={address.page <= 1}
            onClick={() => turnTo(address.page - 1)}
          >
            Previous page
          </button>
          <button
            type="button"
            disabled={!listing?.nextCursor}
            onClick={() => turnTo((listing?.page ?? address.page) + 1)}
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
