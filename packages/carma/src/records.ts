/** Turning internal fragment records into what callers and the history see. */

import type { FragmentChange, FragmentRecord } from './fragment-store.js';
import type { Fragment } from './memory-types.js';

/** A deep copy without the index label, so callers cannot change the memory's records. */
export function publicFragment(f: FragmentRecord): Fragment {
  const { label: _label, ...rest } = structuredClone(f);
  return rest;
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
