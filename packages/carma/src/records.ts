/** Turning internal fragment records into what callers and the history see. */

import type { FragmentChange, FragmentRecord, Metadata } from './fragment-store.js';
import type { Fragment } from './memory-types.js';

/**
 * A deep copy without the index label, so callers cannot change the memory's records.
 * Field by field: `structuredClone` of the whole record costs several times more, and
 * every search result goes through here. Metadata values are scalars or arrays of them.
 */
export function publicFragment(f: FragmentRecord): Fragment {
  return {
    id: f.id,
    namespace: f.namespace,
    text: f.text,
    contentHash: f.contentHash,
    metadata: copyMetadata(f.metadata),
    importance: f.importance,
    core: f.core,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    accessedAt: f.accessedAt,
    accessCount: f.accessCount,
    reinforcements: f.reinforcements,
    version: f.version,
    mergedFrom: [...f.mergedFrom],
    links: [...f.links],
  };
}

function copyMetadata(metadata: Metadata): Metadata {
  const copy: Metadata = {};
  for (const [key, value] of Object.entries(metadata)) {
    copy[key] = Array.isArray(value) ? [...value] : value;
  }
  return copy;
}

/** The history entry for `f` as it is after a change of this kind. */
export function historyEntry(
  f: FragmentRecord,
  kind: FragmentChange['kind'],
  at: number,
  note?: string,
): FragmentChange {
  return {
    version: f.version,
    kind,
    at,
    text: f.text,
    metadata: structuredClone(f.metadata),
    importance: f.importance,
    namespace: f.namespace,
    ...(note ? { note } : {}),
  };
}
