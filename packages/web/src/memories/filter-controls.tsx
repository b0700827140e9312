import type { JSX } from 'preact';
import { api, ok } from '../api/client';
import { MAX_LENGTH } from '../api/max-length.gen';
import { useLoad } from '../hooks';
import type { Filters } from './filters';

/** An importance bound: a fragment's importance is from 0 to 1. */
const IMPORTANCE = { type: 'number', min: 0, max: 1, step: 0.1 } as const;

/** One filter: its label and its input, which names the filter it changes. */
function FilterInput({
  id,
  label,
  name,
  value,
  onChange,
  ...attributes
}: {
  id: string;
  label: string;
  name: keyof Filters;
  value: string;
  onChange: (key: keyof Filters, value: string) => void;
} & Pick<
  JSX.InputHTMLAttributes<HTMLInputElement>,
  'type' | 'min' | 'max' | 'step' | 'maxLength'
>) {
  return (
    <div>
      <label for={id}>{label}</label>
      <input
        id={id}
        {...attributes}
        value={value}
        onInput={(e) => onChange(name, (e.target as HTMLInputElement).value)}
      />
    </div>
  );
}

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
  const input = (name: keyof Filters) => ({ name, value: filters[name], onChange });
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
      <FilterInput
        id="filter-source"
        label="Source"
        maxLength={MAX_LENGTH['GET /v1/memory'].source}
        {...input('source')}
      />
      <FilterInput id="filter-from" label="Created from" type="date" {...input('from')} />
      <FilterInput id="filter-to" label="Created to" type="date" {...input('to')} />
      <FilterInput
        id="filter-min"
        label="Importance at least"
        {...IMPORTANCE}
        {...input('minImportance')}
      />
      <FilterInput
        id="filter-max"
        label="Importance at most"
        {...IMPORTANCE}
        {...input('maxImportance')}
      />
    </fieldset>
  );
}
