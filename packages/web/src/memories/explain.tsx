import { formatNumber } from '../components/format';
import type { Explain } from './types';

function part(name: string, p: Explain['lexical']): string {
  if (!p) return `no ${name} match`;
  return `${name} ${formatNumber(p.normalized)} (rank ${p.rank}, raw ${formatNumber(p.score)})`;
}

/**
 * Why a result matched: its lexical (BM25) and vector parts, and how recency and
 * importance moved the base score to the final one.
 */
export function Explanation({ explain }: { explain: Explain }) {
  const lexical = explain.lexical?.normalized ?? 0;
  const vector = explain.vector?.normalized ?? 0;
  return (
    <div class="explain">
      <span class="bars" aria-hidden="true">
        <span class="bar lexical" style={{ width: `${Math.round(lexical * 100)}%` }} />
        <span class="bar vector" style={{ width: `${Math.round(vector * 100)}%` }} />
      </span>
      <span>
        Why: {part('lexical', explain.lexical)} · {part('vector', explain.vector)} · base{' '}
        {formatNumber(explain.base)}
        {explain.recency === undefined ? '' : ` · recency ×${formatNumber(explain.recency)}`}
        {explain.importance === undefined
          ? ''
          : ` · importance ×${formatNumber(explain.importance)}`}{' '}
        → {formatNumber(explain.final)}
      </span>
    </div>
  );
}
