/**
 * Allow-lists: the labels a search may return under a namespace and a filter. Computing
 * one walks the namespace (or every fragment), so recent ones are kept until the next
 * change to the fragments.
 */
import type { Filter, Predicate } from './filter.js';
import type { FragmentState } from './fragment-state.js';
import type { FragmentRecord } from './fragment-store.js';

/** Allow-lists kept, least recently used dropped first. */
const CACHED_LISTS = 32;

export class AllowListCache {
  private readonly lists = new Map<string, { changes: number; labels: Uint32Array | undefined }>();

  constructor(private readonly fragments: FragmentState) {}

  /**
   * The allowed labels, or undefined when every fragment is allowed. Remembered per
   * (namespace, filter) until the next change; filters on `accessedAt`, which every
   * search changes, are never cached.
   */
  labels(
    namespace: string | undefined,
    filter: Filter | undefined,
    predicate: Predicate | undefined,
  ): Uint32Array | undefined {
    if (namespace === undefined && predicate === undefined) return undefined;
    const key = JSON.stringify([namespace ?? null, filter ?? null]);
    if (key.includes('"accessedAt"')) return this.compute(namespace, predicate);
    const changes = this.fragments.changes;
    const hit = this.lists.get(key);
    if (hit && hit.changes === changes) return hit.labels;
    const labels = this.compute(namespace, predicate);
    // Re-inserted so that the map's order is the order of use.
    this.lists.delete(key);
    this.lists.set(key, { changes, labels });
    if (this.lists.size > CACHED_LISTS) this.lists.delete(this.lists.keys().next().value as string);
    return labels;
  }

  private compute(
    namespace: string | undefined,
    predicate: Predicate | undefined,
  ): Uint32Array | undefined {
    if (namespace === undefined && predicate === undefined) return undefined;
    const { byLabel, namespaceLabels, size, onDemand } = this.fragments;
    if (onDemand) {
      // A filter needs the records: the search read them all before asking.
      const labels = onDemand.labelsIn(namespace as string);
      return labels.length === size ? undefined : labels;
    }
    const inNamespace =
      namespace === undefined ? undefined : (namespaceLabels.get(namespace) ?? new Set<number>());
    if (inNamespace && !predicate) {
      return inNamespace.size === size ? undefined : Uint32Array.from(inNamespace);
    }
    const out = new Uint32Array(inNamespace ? inNamespace.size : size);
    let n = 0;
    if (inNamespace) {
      for (const label of inNamespace) {
        if ((predicate as Predicate)(byLabel.get(label) as FragmentRecord)) out[n++] = label;
      }
    } else {
      for (const [label, f] of byLabel) if ((predicate as Predicate)(f)) out[n++] = label;
    }
    return n === size ? undefined : out.subarray(0, n);
  }
}
