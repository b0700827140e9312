/**
 * The fragments a memory holds, indexed the ways its operations look them up: by id,
 * by index label, by (namespace, text hash) for dedup, and the labels of each namespace.
 */

import { setImmediate as nextTurn } from 'node:timers/promises';
import { AiosError } from '@aios/utils';
import { NO_LABEL } from './engine/index.js';
import { CarmaErrorCode } from './errors.js';
import type { FragmentRecord, FragmentStore } from './fragment-store.js';
import { LabelTable } from './label-table.js';
import type { RecordsOnDemand } from './records-on-demand.js';
import { checkId } from './validation.js';

/** The dedup key: identical text is stored once per namespace. */
export function contentKey(namespace: string, contentHash: string): string {
  return `${namespace}\u0000${contentHash}`;
}

export function fragmentNotFound(id: string): AiosError {
  return new AiosError(
    CarmaErrorCode.FRAGMENT_NOT_FOUND,
    `no fragment with id ${JSON.stringify(id)}`,
    {
      details: { id },
    },
  );
}

const EMPTY: ReadonlySet<string> = new Set();

/** The fragments holding the texts of a write, found before it (`contentHolders`). */
export interface ContentHolders {
  /** The fragment holding this text in this namespace: what a copy of it duplicates. */
  inNamespace(namespace: string, contentHash: string): FragmentRecord | undefined;
  /** A fragment holding this text in any namespace: whose vector a copy can reuse. */
  any(contentHash: string): FragmentRecord | undefined;
}
/**
 * How long the lookups by text hash are built before the event loop gets a turn: long
 * enough that the write waiting for them is not drawn out by the searches in between,
 * short enough that those searches hardly wait.
 */
const LOOKUP_SLICE_MS = 8;
/** Fragments taken in between two looks at the clock. */
const LOOKUP_STEP = 256;

export class FragmentState {
  readonly byId = new Map<string, FragmentRecord>();
  readonly byLabel = new LabelTable<FragmentRecord>();
  /**
   * The lookups by text hash (see `Dedup`), built at their first use rather than on open:
   * a memory opened to search never needs them.
   */
  private dedup: Dedup | undefined;
  /** The lookups being built a slice at a time (`prepareLookups`). */
  private building: Promise<void> | undefined;
  readonly namespaceLabels = new Map<string, Set<number>>();
  /**
   * Set while the memory, opened from a checkpoint, has not read every record: then
   * `byId`, `byLabel` and `namespaceLabels` are empty, and this says who holds what.
   */
  onDemand: RecordsOnDemand | undefined;
  /**
   * Ids of the fragments that may link to others (every one that does, and maybe some
   * that no longer do): what a delete looks through to unlink, instead of every fragment.
   */
  private readonly linking = new Set<string>();
  /**
   * No label below this one is free: the lowest the store's label counter may hand out
   * next (labels are never reused; the counter itself is in the store, see `FragmentStore.add`).
   */
  nextLabel = 0;
  /**
   * Bumped by every change that can alter a filter's result, so that cached allow-lists
   * know when they went stale.
   */
  changes = 0;

  get size(): number {
    return this.onDemand ? this.onDemand.size : this.byId.size;
  }

  /** Takes in a fragment, new or changed. */
  remember(f: FragmentRecord): void {
    if (this.onDemand) {
      this.changes++;
      this.onDemand.set(f);
      return;
    }
    // Without the lookups yet, they are built from `byId` when first used: the same.
    this.dedup?.add(f);
    this.take(f);
  }

  /** The id and namespace of the fragment holding `label`, if any. */
  holderOf(label: number): { id: string; namespace: string } | undefined {
    if (this.onDemand) {
      const id = this.onDemand.idOf(label);
      const namespace = this.onDemand.namespaceOf(label);
      return id === undefined || namespace === undefined ? undefined : { id, namespace };
    }
    return this.byLabel.get(label);
  }

  /**
   * Whether a write that looks texts up (an add, a new text) can run on the records at
   * hand: always once every record is read, and from a label map that knows the
   * fragments' texts (format 2 on).
   */
  get textsOnDemand(): boolean {
    return this.onDemand === undefined || this.onDemand.knowsContent;
  }

  /**
   * The fragments holding these texts (by content hash). Opened from a checkpoint, the
   * map names candidates and their records are read from `store` in one call.
   */
  async contentHolders(store: FragmentStore, hashes: Iterable<string>): Promise<ContentHolders> {
    const onDemand = this.onDemand;
    if (!onDemand) {
      await this.prepareLookups();
      return {
        inNamespace: (namespace, hash) => {
          const id = this.idWithContent(namespace, hash);
          return id === undefined ? undefined : this.byId.get(id);
        },
        any: (hash) => {
          for (const id of this.withHash(hash)) {
            const f = this.byId.get(id);
            if (f) return f;
          }
          return undefined;
        },
      };
    }
    const wanted = new Set(hashes);
    const ids = new Set<string>();
    for (const hash of wanted) for (const id of onDemand.mayHoldContent(hash)) ids.add(id);
    const byKey = new Map<string, FragmentRecord>();
    const byHash = new Map<string, FragmentRecord>();
    for (const f of await store.read([...ids])) {
      // Read as stored now: only a record the memory holds under that label counts.
      if (!f || !wanted.has(f.contentHash) || onDemand.labelOfId(f.id) !== f.label) continue;
      const held = onDemand.atHandFor(f.label) ?? f;
      byKey.set(contentKey(held.namespace, held.contentHash), held);
      byHash.set(held.contentHash, held);
    }
    return {
      inNamespace: (namespace, hash) => byKey.get(contentKey(namespace, hash)),
      any: (hash) => byHash.get(hash),
    };
  }

  /**
   * Takes in the fragments of a memory being opened, without the lookups by text hash
   * (built from `byId` when first used: the same result, since nothing changed between).
   */
  rememberAll(records: readonly FragmentRecord[]): void {
    if (this.dedup) for (const f of records) this.dedup.add(f);
    for (const f of records) this.take(f);
  }

  /**
   * `rememberAll` 8 ms at a time with the event loop let go in between, for a memory that
   * answers from its label map meanwhile (`onDemand`, which nothing here changes).
   */
  async rememberInSlices(records: readonly FragmentRecord[]): Promise<void> {
    for (let i = 0; i < records.length; ) {
      const until = performance.now() + LOOKUP_SLICE_MS;
      while (i < records.length && performance.now() < until) {
        const end = Math.min(records.length, i + LOOKUP_STEP);
        for (; i < end; i++) {
          const f = records[i] as FragmentRecord;
          this.dedup?.add(f);
          this.take(f);
        }
      }
      if (i < records.length) await nextTurn();
    }
  }

  /**
   * Builds the lookups by text hash, if not built yet, 8 ms at a time with the event loop
   * let go in between (about 1.5 µs a fragment: 150 ms at 100k, which searches would
   * otherwise wait for behind the first write). Call it before the first write.
   */
  prepareLookups(): Promise<void> {
    if (this.dedup) return Promise.resolve();
    this.building ??= this.buildLookups().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  private async buildLookups(): Promise<void> {
    // A change taken in while building (a catch-up) starts it again; after a few, the
    // next lookup builds them at once.
    for (let attempt = 0; attempt < 3 && !this.dedup; attempt++) {
      const at = this.changes;
      const records = [...this.byId.values()];
      const dedup = new Dedup();
      for (let i = 0; i < records.length && this.changes === at; ) {
        const until = performance.now() + LOOKUP_SLICE_MS;
        while (i < records.length && performance.now() < until) {
          const end = Math.min(records.length, i + LOOKUP_STEP);
          for (; i < end; i++) dedup.add(records[i] as FragmentRecord);
        }
        if (i < records.length) await nextTurn();
        if (this.dedup) return; // built at once meanwhile
      }
      if (this.changes === at) this.dedup = dedup;
    }
  }

  private lookups(): Dedup {
    if (!this.dedup) {
      this.dedup = new Dedup();
      for (const f of this.byId.values()) this.dedup.add(f);
    }
    return this.dedup;
  }

  private take(f: FragmentRecord): void {
    this.changes++;
    this.byId.set(f.id, f);
    this.byLabel.set(f.label, f);
    let set = this.namespaceLabels.get(f.namespace);
    if (!set) {
      set = new Set();
      this.namespaceLabels.set(f.namespace, set);
    }
    set.add(f.label);
    this.noteLinks(f);
  }

  /** Notes that `f` may now link to others (its `links` were set). */
  noteLinks(f: FragmentRecord): void {
    if (f.links.length > 0) this.linking.add(f.id);
  }

  /** The fragments that link to others. */
  linkingFragments(): FragmentRecord[] {
    const out: FragmentRecord[] = [];
    for (const id of this.linking) {
      const f = this.byId.get(id);
      if (f && f.links.length > 0) out.push(f);
      else this.linking.delete(id);
    }
    return out;
  }

  forget(f: FragmentRecord): void {
    this.changes++;
    if (this.onDemand) {
      this.onDemand.drop(f.id);
      return;
    }
    this.linking.delete(f.id);
    this.dedup?.delete(f);
    this.byId.delete(f.id);
    this.byLabel.delete(f.label);
    this.namespaceLabels.get(f.namespace)?.delete(f.label);
    if (this.namespaceLabels.get(f.namespace)?.size === 0) this.namespaceLabels.delete(f.namespace);
  }

  /** The id of the fragment holding this text in this namespace, if any. */
  idWithContent(namespace: string, contentHash: string): string | undefined {
    return this.lookups().byContent.get(namespace)?.get(contentHash);
  }

  /** The fragments holding this text, in any namespace. */
  withHash(contentHash: string): Iterable<string> {
    const ids = this.lookups().byHash.get(contentHash);
    return ids === undefined ? EMPTY : typeof ids === 'string' ? [ids] : ids;
  }

  /**
   * The record of the fragment with this id, to change it: the one held, or (opened from
   * a checkpoint) the one at hand or read from `store`. A bad id or an unknown one is an
   * error.
   */
  async recordToChange(store: FragmentStore, id: unknown): Promise<FragmentRecord> {
    if (!this.onDemand) return this.mustGet(id);
    const checked = checkId(id);
    const f = await this.recordOf(store, checked);
    if (!f) throw fragmentNotFound(checked);
    return f;
  }

  /**
   * The record of the fragment with this id, if the memory holds it: the one held, or
   * (opened from a checkpoint) the one at hand or read from `store`.
   */
  async recordOf(store: FragmentStore, id: string): Promise<FragmentRecord | undefined> {
    const onDemand = this.onDemand;
    if (!onDemand) return this.byId.get(id);
    const label = onDemand.labelOfId(id);
    if (label === undefined) return undefined;
    const held = onDemand.atHandFor(label);
    if (held) return held;
    const [f] = await store.read([id]);
    // Read as stored now: only the record the memory holds under that label counts.
    if (!f || f.label !== label || onDemand.labelOfId(id) !== label) return undefined;
    // Links to fragments deleted without their links being cleared, as on open.
    if (f.links.length > 0) f.links = f.links.filter((other) => onDemand.holds(other));
    return f;
  }

  /**
   * The ids of the fragments held that start or end with `part`, without reading a record
   * (opened from a checkpoint, from its label map and what changed since).
   */
  idsWithPart(part: string): string[] {
    if (this.onDemand) return this.onDemand.idsWithPart(part);
    const out: string[] = [];
    for (const id of this.byId.keys()) if (id.startsWith(part) || id.endsWith(part)) out.push(id);
    return out;
  }

  /** The fragment with this id; a bad id or an unknown one is an error. */
  mustGet(id: unknown): FragmentRecord {
    const checked = checkId(id);
    const f = this.byId.get(checked);
    if (!f) throw fragmentNotFound(checked);
    return f;
  }

  /** Fails unless `count` more labels fit below NO_LABEL (the engine's "no hit" marker). */
  checkCapacity(count: number): void {
    if (this.nextLabel + count > NO_LABEL)
      throw new AiosError(CarmaErrorCode.CAPACITY, 'this memory has used every label');
  }

  /** Notes labels handed out (here or by another process): none below them is free. */
  claimLabels(labels: Iterable<number>): void {
    for (const label of labels) if (label >= this.nextLabel) this.nextLabel = label + 1;
  }

  /** Fragments per namespace. */
  namespaceCounts(): Record<string, number> {
    if (this.onDemand) return Object.fromEntries(this.onDemand.namespaceCounts());
    return Object.fromEntries([...this.namespaceLabels].map(([ns, set]) => [ns, set.size]));
  }
}

/** The lookups by text hash: the dedup key per namespace, and the holders of a text. */
class Dedup {
  /**
   * The fragment holding each text hash, per namespace (the dedup key). Nested rather
   * than keyed by a joined string: it is built for every fragment at once.
   */
  readonly byContent = new Map<string, Map<string, string>>();
  /**
   * Fragments by text hash alone, in any namespace: whose vector a new copy can reuse.
   * Most texts are held once: their id alone, a set only for the others.
   */
  readonly byHash = new Map<string, string | Set<string>>();

  add(f: FragmentRecord): void {
    let inNamespace = this.byContent.get(f.namespace);
    if (!inNamespace) {
      inNamespace = new Map();
      this.byContent.set(f.namespace, inNamespace);
    }
    inNamespace.set(f.contentHash, f.id);
    const ids = this.byHash.get(f.contentHash);
    if (ids === undefined || ids === f.id) this.byHash.set(f.contentHash, f.id);
    else if (typeof ids === 'string') this.byHash.set(f.contentHash, new Set([ids, f.id]));
    else ids.add(f.id);
  }

  delete(f: FragmentRecord): void {
    const inNamespace = this.byContent.get(f.namespace);
    // Only if the key still points at this fragment (an update may have taken it over).
    if (inNamespace?.get(f.contentHash) === f.id) {
      inNamespace.delete(f.contentHash);
      if (inNamespace.size === 0) this.byContent.delete(f.namespace);
    }
    const ids = this.byHash.get(f.contentHash);
    if (ids === f.id) this.byHash.delete(f.contentHash);
    else if (typeof ids === 'object') {
      ids.delete(f.id);
      if (ids.size === 1) this.byHash.set(f.contentHash, ids.values().next().value as string);
    }
  }
}
