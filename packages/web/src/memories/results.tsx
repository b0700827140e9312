import { formatDate, formatNumber } from '../components/format';
import { linkHandler } from '../router';
import { Explanation } from './explain';
import type { Row } from './types';

interface ResultsProps {
  rows: Row[];
  selected: ReadonlySet<string>;
  /** Without it (a key that may not change fragments) nothing is selectable. */
  onToggle?: ((id: string, on: boolean) => void) | undefined;
  label: string;
}

function excerpt(text: string, max = 280): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Fragments as a list: select for bulk actions, open for details, and why each matched. */
export function Results({ rows, selected, onToggle, label }: ResultsProps) {
  return (
    <ul class="results" aria-label={label}>
      {rows.map(({ fragment, score, explain }) => {
        const path = `/memories/${encodeURIComponent(fragment.id)}`;
        return (
          <li key={fragment.id} data-fragment-id={fragment.id}>
            {onToggle && (
              <input
                type="checkbox"
                id={`select-${fragment.id}`}
                checked={selected.has(fragment.id)}
                onChange={(e) => onToggle(fragment.id, (e.target as HTMLInputElement).checked)}
                aria-label={`Select fragment ${fragment.id}`}
              />
            )}
            <div class="result-body">
              <a href={path} onClick={linkHandler(path)} class="fragment-link">
                {excerpt(fragment.text)}
              </a>
              <div class="meta">
                <span>{fragment.namespace}</span>
                {fragment.source && <span>source {fragment.source}</span>}
                <span>importance {formatNumber(fragment.importance)}</span>
                <span>created {formatDate(fragment.createdAt)}</span>
                {fragment.version > 1 && <span>version {fragment.version}</span>}
                {score !== undefined && <span>score {formatNumber(score)}</span>}
              </div>
              {explain && <Explanation explain={explain} />}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
