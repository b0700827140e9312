import type { Fragment, FragmentChange, SearchResult } from '@aios/carma';
import { iso } from '../http/time.js';

/** A fragment as the API shows it: CARMA's fields, times in ISO 8601, and its source file. */
export function fragmentView(f: Fragment) {
  const source = f.metadata.source;
  return {
    id: f.id,
    namespace: f.namespace,
    text: f.text,
    metadata: f.metadata as Record<string, unknown>,
    source: typeof source === 'string' ? source : null,
    importance: f.importance,
    core: f.core,
    version: f.version,
    createdAt: iso(f.createdAt),
    updatedAt: iso(f.updatedAt),
    accessedAt: iso(f.accessedAt),
    accessCount: f.accessCount,
    reinforcements: f.reinforcements,
    mergedFrom: f.mergedFrom,
    links: f.links,
  };
}

/** One change of a fragment's history: what it was after the change. */
export function historyEntryView(c: FragmentChange) {
  return {
    version: c.version,
    kind: c.kind,
    at: iso(c.at),
    text: c.text,
    metadata: c.metadata as Record<string, unknown>,
    importance: c.importance,
    note: c.note ?? null,
  };
}

export function searchResultView(r: SearchResult) {
  return {
    id: r.id,
    score: r.score,
    fragment: fragmentView(r.fragment),
    ...(r.explain ? { explain: r.explain } : {}),
  };
}
