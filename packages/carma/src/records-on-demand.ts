/**
 * The fragments of a memory opened from a checkpoint, before their records are read: who
 * holds each label (the checkpoint's label map, less what changed since, plus the records
 * changed since), how many each namespace holds, and the records read so far for search
 * results. Read-only: a mutation, a catch-up with other writers or anything that needs
 * every record reads them all first (`completeRecords`), and this is dropped.
 */
import type { FragmentRecord, FragmentStore } from './fragment-store.js';
import type { LabelMap } from './label-map-file.js';
import { LabelTable } from './label-table.js';

/**
 * Records of search results kept (oldest dropped first): a search returns the same ones
 * often, and the accesses recorded on them stay counted until written.
 */
const CACHED_RECORDS = 10_000;

export class RecordsOnDemand {
  /** Per entry of the map: 1 when it no longer holds (deleted or changed since). */
  private readonly gone: Uint8Array;
  /**
   * Records added or changed since the checkpoint, by label: never the label of an entry
   * still held (a changed fragment's entry is gone; the open refuses a label held twice).
   */
  private readonly since = new LabelTable<FragmentRecord>();
  private readonly sinceIds = new Set<string>();
  /** Records read for results, by label, oldest first. */
  private readonly cache = new Map<number, FragmentRecord>();
  private counts: Map<string, number> | undefined;
  readonly size: number;
  /** The highest label held. */
  readonly maxLabel: number;

  constructor(
    private readonly map: LabelMap,
    goneEntries: Iterable<number>,
    changed: readonly FragmentRecord[],
  ) {
    this.gone = new Uint8Array(map.count);
    let goneCount = 0;
    for (const entry of goneEntries) {
      if (this.gone[entry] === 0) goneCount++;
      this.gone[entry] = 1;
    }
    let maxLabel = map.count > 0 ? (map.labels[map.count - 1] as number) : -1;
    for (const f of changed) {
      this.since.set(f.label, f);
      this.sinceIds.add(f.id);
      if (f.label > maxLabel) maxLabel = f.label;
    }
    this.size = map.count - goneCount + this.since.size;
    this.maxLabel = maxLabel;
  }

  /** The map's entry holding `label`, or -1 (also when it changed since: see `since`). */
  private entry(label: number): number {
    const entry = this.map.entryOf(label);
    return entry >= 0 && this.gone[entry] === 0 ? entry : -1;
  }

  /** The id of the fragment holding `label`, if any. */
  idOf(label: number): string | undefined {
    const changed = this.since.get(label);
    if (changed) return changed.id;
    const entry = this.entry(label);
    return entry < 0 ? undefined : this.map.idAt(entry);
  }

  /** The importance of the fragment holding `label` (undefined: none holds it). */
  importanceOf(label: number): number | undefined {
    const changed = this.since.get(label);
    if (changed) return changed.importance;
    const entry = this.entry(label);
    return entry < 0 ? undefined : this.map.importanceAt(entry);
  }

  has(label: number): boolean {
    return this.since.has(label) || this.entry(label) >= 0;
  }

  /** Whether the fragment with this id is held. */
  holds(id: string): boolean {
    if (this.sinceIds.has(id)) return true;
    const entry = this.map.entryOfId(id);
    return entry >= 0 && this.gone[entry] === 0;
  }

  /** Every label held. */
  labels(): number[] {
    const out: number[] = [];
    const { labels } = this.map;
    for (let i = 0; i < labels.length; i++) if (this.gone[i] === 0) out.push(labels[i] as number);
    for (const [label] of this.since) out.push(label);
    return out;
  }

  /** Fragments per namespace. */
  namespaceCounts(): Map<string, number> {
    if (this.counts) return this.counts;
    const { map } = this;
    const perIndex = new Uint32Array(map.namespaces.length);
    for (let i = 0; i < map.count; i++) {
      if (this.gone[i] === 0) {
        const ns = map.namespaceIndexAt(i);
        perIndex[ns] = (perIndex[ns] as number) + 1;
      }
    }
    const counts = new Map<string, number>();
    map.namespaces.forEach((ns, i) => {
      if ((perIndex[i] as number) > 0) counts.set(ns, perIndex[i] as number);
    });
    for (const [, f] of this.since) counts.set(f.namespace, (counts.get(f.namespace) ?? 0) + 1);
    this.counts = counts;
    return counts;
  }

  /** The labels of one namespace. */
  labelsIn(namespace: string): Uint32Array {
    const { map } = this;
    const index = map.namespaces.indexOf(namespace);
    const out: number[] = [];
    if (index >= 0) {
      for (let i = 0; i < map.count; i++) {
        const label = map.labels[i] as number;
        if (map.namespaceIndexAt(i) === index && this.gone[i] === 0) out.push(label);
      }
    }
    for (const [label, f] of this.since) if (f.namespace === namespace) out.push(label);
    return Uint32Array.from(out);
  }

  /**
   * The records of these labels, in order (undefined: no longer held), read from `store`
   * in one call for those not at hand. A record read whose label is another (the fragment
   * was relabelled meanwhile) counts as not held.
   */
  async records(
    store: FragmentStore,
    labels: readonly number[],
  ): Promise<Array<FragmentRecord | undefined>> {
    const out: Array<FragmentRecord | undefined> = labels.map(
      (label) => this.since.get(label) ?? this.cache.get(label),
    );
    const missing: number[] = [];
    const ids: string[] = [];
    out.forEach((f, i) => {
      if (f) return;
      const id = this.idOf(labels[i] as number);
      if (id === undefined) return;
      missing.push(i);
      ids.push(id);
    });
    if (ids.length === 0) return out;
    const read = await store.read(ids);
    missing.forEach((i, n) => {
      const f = read[n];
      const label = labels[i] as number;
      if (!f || f.label !== label) return;
      // Read meanwhile by another search: that record carries its accesses.
      const kept = this.cache.get(label);
      out[i] = kept ?? f;
      if (kept) return;
      // Links to fragments deleted without their links being cleared, as on open.
      if (f.links.length > 0) f.links = f.links.filter((id) => this.holds(id));
      this.keep(label, f);
    });
    return out;
  }

  private keep(label: number, f: FragmentRecord): void {
    this.cache.set(label, f);
    if (this.cache.size > CACHED_RECORDS) {
      this.cache.delete(this.cache.keys().next().value as number);
    }
  }

  /** The records at hand: their accesses recorded here and not yet written. */
  atHand(): Iterable<FragmentRecord> {
    return this.cache.values();
  }
}
