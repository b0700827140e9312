import { api, ok } from '../api/client';
import { MAX_LENGTH } from '../api/max-length.gen';
import { useLoad } from '../hooks';
import type { Filters } from './filters';

/**
 * The filter controls of the Memories page. Each change names its field, so that the page
 * can make letters typed in one field one step of its history.
 */
export function FilterControls({
  filters,
  onChange,
  version,
}: {
  filters: Filters;
  onChange: (key: keyof Filters, value: string) => void;
  /** Changes when fragments were added or removed: the namespaces are read again. */
  version: number;
}) {
  const namespaces = useLoad(
    async () => (await ok(api.GET('/v1/memory/namespaces'))).items,
    [version],
  );
  const listed = namespaces.data ?? [];
  // A namespace from the address that holds nothing (a link kept after an erasure) is still
  // the one shown as chosen, not "All", which the list would contradict.
  const unlisted =
    filters.namespace !== '' && !listed.some((n) => n.name === filters.namespace)
      ? filters.namespace
      : null;
  const field = (key: keyof Filters) => ({
    value: filters[key],
    onInput: (e: Event) => onChange(key, (e.target as HTMLInputElement).value),
  });
  return (
    <fieldset class="filters">
      <legend>Filters</legend>
      <div>
        <label for="filter-namespace">Namespace</label>
        <select
          id="filter-namespace"
          value={filters.namespace}
          onChange={(e) => onChange('namespace', (e.target as HTMLSelectElement).value)}
        >
          <option value="">All</option>
          {listed.map((n) => (
            <option key={n.name} value={n.name}>
              {n.name} ({n.fragments})
            </option>
          ))}
          {unlisted !== null && (
            <option value={unlisted}>
              {unlisted}
              {namespaces.data ? ' (0)' : ''}
            </option>
          )}
        </select>
      </div>
      <div>
        <label for="filter-source">Source</label>
        <input
          id="filter-source"
          maxLength={MAX_LENGTH['GET /v1/memory'].source}
          {...field('source')}
        />
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
