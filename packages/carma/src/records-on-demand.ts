/**
 * The fragments of a memory opened from a checkpoint, before their records are read: who
 * holds each label (the checkpoint's label map, less what changed since, plus the records
 * changed since), how many each namespace holds, and the records read so far for search
 * results. Adds, updates, reinforcements and catch-ups with other writers change it
 * (`set`, `drop`); anything that needs every record (a listing, a filter, a delete) reads
 * them all first (`completeRecords`), and this is dropped.
 */
import type { FragmentRecord, FragmentStore } from './fragment-store.js';
import type { LabelMap, LabelMapSource } from './label-map-file.js';
import { LabelTable } from './label-table.js';

/**
 * Records of search results kept (oldest dropped first): a search returns the same ones
 * often, and the accesses recorded on them stay counted until written.
 */
const CACHED_RECORDS = 10_000;

export class RecordsOnDemand {
  /** Per entry of the map: 1 when it no longer holds (deleted or changed since). */
  private readonly gone: Uint8Array;
  private goneCount = 0;
  /**
   * Records added or changed since the checkpoint, by label: never the label of an entry
   * still held (a changed fragment's entry is gone; a label held twice is refused).
   */
  private readonly since = new LabelTable<FragmentRecord>();
  private readonly sinceIds = new Map<string, FragmentRecord>();
  /** The ids of those records by content hash. */
  private readonly sinceContent = new Map<string, Set<string>>();
  /** Records read for results, by label, oldest first. */
  private readonly cache = new Map<number, FragmentRecord>();
  private counts: Map<string, number> | undefined;
  /** The highest label held or once held. */
  maxLabel: number;

  constructor(
    private readonly map: LabelMap,
    goneEntries: Iterable<number>,
    changed: readonly FragmentRecord[],
  ) {
    this.gone = new Uint8Array(map.count);
    for (const entry of goneEntries) this.markGone(entry);
    this.maxLabel = map.count > 0 ? (map.labels[map.count - 1] as number) : -1;
    for (const f of changed) this.set(f);
  }

  get size(): number {
    return this.map.count - this.goneCount + this.since.size;
  }

  /** Whether an add can find the fragments that may hold a text (`mayHoldContent`). */
  get knowsContent(): boolean {
    return this.map.knowsContent;
  }

  private markGone(entry: number): void {
    if (this.gone[entry] === 1) return;
    this.gone[entry] = 1;
    this.goneCount++;
  }

  /**
   * Takes in a fragment's record as it is now (added, or changed: its entry of the map or
   * its earlier record no longer holds). Its label must not be another fragment's.
   */
  set(f: FragmentRecord): void {
    this.drop(f.id);
    this.since.set(f.label, f);
    this.sinceIds.set(f.id, f);
    let holders = this.sinceContent.get(f.contentHash);
    if (!holders) {
      holders = new Set();
      this.sinceContent.set(f.contentHash, holders);
    }
    holders.add(f.id);
    this.cache.delete(f.label);
    if (f.label > this.maxLabel) this.maxLabel = f.label;
    this.counts = undefined;
  }

  /** The fragment with this id no longer holds its label (deleted, or about to change). */
  drop(id: string): void {
    const earlier = this.sinceIds.get(id);
    if (earlier) {
      this.sinceIds.delete(id);
      this.since.delete(earlier.label);
      const holders = this.sinceContent.get(earlier.contentHash);
      holders?.delete(id);
      if (holders?.size === 0) this.sinceContent.delete(earlier.contentHash);
      this.cache.delete(earlier.label);
    }
    const entry = this.map.entryOfId(id);
    if (entry >= 0 && this.gone[entry] === 0) {
      this.markGone(entry);
      this.cache.delete(this.map.labels[entry] as number);
    }
    this.counts = undefined;
  }

  /** The label the fragment with this id holds, if it is held. */
  labelOfId(id: string): number | undefined {
    const f = this.sinceIds.get(id);
    if (f) return f.label;
    const entry = this.map.entryOfId(id);
    return entry >= 0 && this.gone[entry] === 0 ? (this.map.labels[entry] as number) : undefined;
  }

  /** The record at hand for `label` (changed since the checkpoint, or read for a result). */
  atHandFor(label: number): FragmentRecord | undefined {
    return this.since.get(label) ?? this.cache.get(label);
  }

  /** The namespace of the fragment holding `label`, if any. */
  namespaceOf(label: number): string | undefined {
    const changed = this.since.get(label);
    if (changed) return changed.namespace;
    const entry = this.entry(label);
    return entry < 0 ? undefined : this.map.namespaceAt(entry);
  }

  /**
   * The ids of the fragments that may hold this text (in any namespace): those changed
   * since the checkpoint that do, and the map's entries with its content key, whose
   * records are to be read and compared.
   */
  mayHoldContent(contentHash: string): string[] {
    const out: string[] = [];
    for (const entry of this.map.entriesWithContent(contentHash)) {
      if (this.gone[entry] === 0) out.push(this.map.idAt(entry));
    }
    for (const id of this.sinceContent.get(contentHash) ?? []) out.push(id);
    return out;
  }

  /** What a label map of the fragments held is written from, in label order. */
  *entries(): Iterable<LabelMapSource> {
    const { map } = this;
    const changed = [...this.since].sort((a, b) => a[0] - b[0]);
    let next = 0;
    for (let i = 0; i < map.count; i++) {
      const label = map.labels[i] as number;
      while (next < changed.length && (changed[next] as [number, FragmentRecord])[0] < label) {
        yield (changed[next++] as [number, FragmentRecord])[1];
      }
      if (this.gone[i] === 0) yield map.refAt(i);
    }
    while (next < changed.length) yield (changed[next++] as [number, FragmentRecord])[1];
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

  /** The ids held that start or end with `part`. */
  idsWithPart(part: string): string[] {
    const out: string[] = [];
    for (const entry of this.map.entriesWithIdPart(part)) {
      if (this.gone[entry] === 0) out.push(this.map.idAt(entry));
    }
    for (const id of this.sinceIds.keys()) {
      if (id.startsWith(part) || id.endsWith(part)) out.push(id);
    }
    return out;
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
  *atHand(): Iterable<FragmentRecord> {
    yield* this.cache.values();
    yield* this.sinceIds.values();
  }
}
