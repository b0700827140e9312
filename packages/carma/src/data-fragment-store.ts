import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  type ChangeHandlers,
  type ChangeWatch,
  type ClusterLockResult,
  type DataStore,
  type JsonObject,
  type NamespaceErasure,
  openDataStore,
  type StoredFragment,
  type StoredFragmentChangeInput,
  type StoredFragmentInput,
} from '@aios/data';
import { AiosError, type NativeMode, type ReadOnlyCause, SerialQueue } from '@aios/utils';
import { isEmbeddingRoles } from './embedding-roles.js';
import { CarmaErrorCode } from './errors.js';
import type {
  FragmentChange,
  FragmentRecord,
  FragmentStore,
  FragmentWrite,
  Metadata,
  OpenHooks,
  RecordWithVector,
  StoredMemory,
  StoreMeta,
} from './fragment-store.js';
import {
  localCheckpointText,
  readLocalCheckpoint,
  writeLocalCheckpoint,
} from './local-checkpoint.js';

/** The meta key of CARMA's state in the data store. */
export const CARMA_META_KEY = 'carma';
/**
 * The label counter: the next index label to hand out, advanced in the transaction of
 * each add (`FragmentStore.add`), so that processes adding at once never share a label.
 */
export const LABEL_COUNTER_KEY = 'carma.next_label';
/** Fragments per read while loading. */
const PAGE = 2000;
/**
 * Accesses are written this long after the first one not yet written. A server's searches
 * touch the same fragments again and again: the longer the wait, the more accesses one
 * row update carries (measured at 32 searches at once over 100k fragments: 5,800 row
 * updates a second at 250 ms, 470 at 2 s, for 17% and 2% of the main thread). A crash
 * loses at most this much of the access counts, never a fragment.
 */
export const TOUCH_DELAY_MS = 2000;
/** Fragments with unwritten accesses past which they are written at once (bounded memory). */
const MAX_PENDING_TOUCHES = 50_000;
/**
 * Fragments whose accesses one write records. Each write is a transaction that holds the
 * thread on SQLite (tens of microseconds a fragment): a server's flush of thousands is cut
 * into such slices with other work (searches) between them, not one stall of its p99.
 */
const USES_PER_WRITE = 256;

export interface DataFragmentStoreOptions {
  /** The store to keep fragments in; it is not closed with this one. */
  data?: DataStore;
  /** Without `data`: the database file to open (and close), or `:memory:` (default). */
  path?: string;
  /** Implementation of the data store opened here. */
  native?: NativeMode;
  /**
   * The memory's directory. When the store is shared over the network (PostgreSQL), the
   * index checkpoint is recorded there instead of in the store's meta (see
   * local-checkpoint.ts): each server's home has its own index file.
   */
  indexDir?: string;
}

/**
 * CARMA's fields other than the user's: kept in the fragment's `attributes`. Access
 * statistics are not among them: they are the store's use count and last use, which
 * `recordUses` updates without rewriting the fragment (and which the analytics read).
 */
function attributesOf(f: FragmentRecord): JsonObject {
  return {
    label: f.label,
    contentHash: f.contentHash,
    importance: f.importance,
    core: f.core,
    reinforcements: f.reinforcements,
    version: f.version,
    mergedFrom: f.mergedFrom,
    links: f.links,
  };
}

/** The strings of a parsed array: the array itself when it holds nothing else (most do). */
const strings = (v: unknown): string[] => {
  if (!Array.isArray(v)) return [];
  for (const x of v) {
    if (typeof x !== 'string') return v.filter((y): y is string => typeof y === 'string');
  }
  return v as string[];
};
const numberOr = (v: unknown, fallback: number): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : fallback;

/** The CARMA fragment of a stored one; undefined for a fragment CARMA did not write. */
function toRecord(f: StoredFragment): FragmentRecord | undefined {
  const a = f.attributes;
  if (!Number.isInteger(a.label) || (a.label as number) < 0 || typeof a.contentHash !== 'string') {
    return undefined;
  }
  return {
    id: f.id,
    label: a.label as number,
    namespace: f.namespace,
    text: f.text,
    contentHash: a.contentHash,
    metadata: f.metadata as Metadata,
    importance: numberOr(a.importance, 0.5),
    core: a.core === true,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    accessedAt: f.lastUsedAt ?? f.createdAt,
    accessCount: f.useCount,
    reinforcements: numberOr(a.reinforcements, 0),
    version: numberOr(a.version, 1),
    mergedFrom: strings(a.mergedFrom),
    links: strings(a.links),
  };
}

function toChangeInput(c: FragmentChange): StoredFragmentChangeInput {
  const data: JsonObject = {
    version: c.version,
    text: c.text,
    metadata: c.metadata,
    importance: c.importance,
  };
  if (c.namespace !== undefined) data.namespace = c.namespace;
  if (c.note) data.note = c.note;
  return { kind: c.kind, at: c.at, data };
}

function toChange(kind: string, at: number, data: JsonObject | null): FragmentChange {
  const d = data ?? {};
  return {
    version: numberOr(d.version, 0),
    kind: kind as FragmentChange['kind'],
    at,
    text: typeof d.text === 'string' ? d.text : '',
    metadata: (d.metadata ?? {}) as Metadata,
    importance: numberOr(d.importance, 0),
    ...(typeof d.namespace === 'string' ? { namespace: d.namespace } : {}),
    ...(typeof d.note === 'string' ? { note: d.note } : {}),
  };
}

function toInput(f: FragmentRecord, vector: Float32Array | undefined): StoredFragmentInput {
  return {
    id: f.id,
    namespace: f.namespace,
    text: f.text,
    metadata: f.metadata,
    attributes: attributesOf(f),
    ...(vector ? { vector } : {}),
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    useCount: f.accessCount,
    // Never read nor reinforced since it was added: no last use.
    lastUsedAt: f.accessCount === 0 && f.accessedAt === f.createdAt ? null : f.accessedAt,
  };
}

function parseMeta(value: unknown): StoreMeta | undefined {
  if (value === undefined) return undefined;
  const m = value as Partial<StoreMeta> | null;
  const index = m?.index;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.embedder !== 'string' ||
    !Number.isInteger(m.dimension) ||
    (m.metric !== 'cosine' && m.metric !== 'dot') ||
    !Number.isInteger(m.nextLabel) ||
    (m.roles !== undefined && !isEmbeddingRoles(m.roles)) ||
    (index !== undefined && (!Number.isInteger(index?.generation) || !Number.isInteger(index?.seq)))
  ) {
    throw new AiosError(
      CarmaErrorCode.STORE_CORRUPT,
      `the data store's "${CARMA_META_KEY}" state is not CARMA's: ${JSON.stringify(value)}`,
    );
  }
  return m as StoreMeta;
}

function parseCounter(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new AiosError(
      CarmaErrorCode.STORE_CORRUPT,
      `the data store's "${LABEL_COUNTER_KEY}" is not a label counter: ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A `FragmentStore` in an @aios/data store (SQLite or PostgreSQL). */
export class DataFragmentStore implements FragmentStore {
  private data: DataStore | undefined;
  private written_ = 0;
  /** The meta as in the store (without the checkpoint when that is local). */
  private metaText: string | undefined;
  /** The local checkpoint record as last read or written. */
  private localText: string | undefined;
  /** Accesses not yet written: count and latest time per fragment id. */
  private touches = new Map<string, { count: number; at: number }>();
  /** Accesses a running flush has yet to write (a put takes its fragments out, as above). */
  private writing = new Map<string, { count: number; at: number }>();
  private touchTimer: NodeJS.Timeout | undefined;
  /** History rows written through this store (and their fragments) not yet taken. */
  private own = { rows: 0, ids: new Set<string>() };
  private readonly flushes = new SerialQueue();
  private closed = false;

  constructor(private readonly options: DataFragmentStoreOptions = {}) {
    this.data = options.data;
  }

  get location(): string | undefined {
    const path = this.options.data?.path ?? this.options.path ?? ':memory:';
    return path === ':memory:' ? undefined : path;
  }

  get written(): number {
    return this.written_;
  }

  get readOnly(): ReadOnlyCause | undefined {
    return this.data?.readOnly?.cause;
  }

  private get db(): DataStore {
    if (!this.data) {
      throw new AiosError(CarmaErrorCode.MEMORY_CLOSED, 'the fragment store is not open');
    }
    return this.data;
  }

  /** Whether the index checkpoint is the home's own rather than the store's (shared store). */
  private get localCheckpoint(): boolean {
    return this.db.database === 'postgres';
  }

  /** The part of `meta` the store keeps: all of it, or all but a local checkpoint. */
  private storedPart(meta: StoreMeta): StoreMeta {
    if (!this.localCheckpoint) return meta;
    const { index: _local, ...shared } = meta;
    return shared;
  }

  /** `meta` as read from the store, with the home's checkpoint when that is local. */
  private withCheckpoint(meta: StoreMeta | undefined): StoreMeta | undefined {
    if (!meta || !this.localCheckpoint) return meta;
    const { index: _shared, ...rest } = meta;
    const dir = this.options.indexDir;
    const index = dir === undefined ? undefined : readLocalCheckpoint(dir, this.db.path);
    return index ? { ...rest, index } : rest;
  }

  /** Records a local checkpoint in the home, when it changed. */
  private async saveCheckpoint(meta: StoreMeta | undefined): Promise<void> {
    const dir = this.options.indexDir;
    if (!meta?.index || dir === undefined || !this.localCheckpoint) return;
    const text = localCheckpointText(meta.index, this.db.path);
    if (text === this.localText) return;
    await writeLocalCheckpoint(dir, text);
    this.localText = text;
  }

  /** The stored part of `meta` when it differs from what the store has, as JSON text. */
  private changedMeta(meta: StoreMeta | undefined): string | undefined {
    if (meta === undefined) return undefined;
    const text = JSON.stringify(this.storedPart(meta));
    return text === this.metaText ? undefined : text;
  }

  async open(hooks: OpenHooks = {}): Promise<StoredMemory> {
    if (!this.data) {
      this.data = await openDataStore({
        path: this.options.path ?? ':memory:',
        ...(this.options.native ? { native: this.options.native } : {}),
      });
    }
    try {
      // Read first: whatever changes while the fragments are read comes after it.
      const seq = await this.db.fragments.latestChange();
      const stored = await this.claimedMeta(hooks);
      this.metaText = JSON.stringify(stored);
      const meta = this.withCheckpoint(stored);
      const nextLabel = parseCounter(await this.db.meta.get(LABEL_COUNTER_KEY));
      const read = hooks.meta?.(meta)?.fragments ?? true;
      const fragments = read ? await this.readAll() : undefined;
      this.own = { rows: 0, ids: new Set() };
      return { meta, fragments, seq, nextLabel };
    } catch (error) {
      if (!this.options.data) await this.data.close().catch(() => undefined);
      this.data = undefined;
      throw error;
    }
  }

  /** The stored meta; when there is none, the one `hooks.claim` gives, recorded if no one else did first. */
  private async claimedMeta(hooks: OpenHooks): Promise<StoreMeta | undefined> {
    const stored = parseMeta(await this.db.meta.get(CARMA_META_KEY));
    // A store open to read only records nothing: the memory goes on with the embedder's.
    if (stored !== undefined || this.readOnly !== undefined) return stored;
    const claim = hooks.claim?.();
    if (claim === undefined) return undefined;
    const part = this.storedPart(claim);
    if (await this.db.meta.setIfAbsent(CARMA_META_KEY, JSON.parse(JSON.stringify(part)))) {
      return part;
    }
    return parseMeta(await this.db.meta.get(CARMA_META_KEY));
  }

  async readAll(): Promise<FragmentRecord[]> {
    // One read of all of them: one snapshot, in the order cheapest to read.
    const fragments: FragmentRecord[] = [];
    await this.db.fragments.scan(
      (page) => {
        for (const f of page) {
          const record = toRecord(f);
          if (record) fragments.push(record);
        }
      },
      { vectors: false },
    );
    return fragments;
  }

  async readPage(
    after: string | undefined,
    limit: number,
  ): Promise<{ records: FragmentRecord[]; next: string | undefined }> {
    const page = await this.db.fragments.list({
      ...(after === undefined ? {} : { after }),
      limit,
      vectors: false,
    });
    const records: FragmentRecord[] = [];
    for (const f of page) {
      const record = toRecord(f);
      if (record) records.push(record);
    }
    return { records, next: page.length === limit ? page.at(-1)?.id : undefined };
  }

  async setMeta(meta: StoreMeta): Promise<void> {
    const text = this.changedMeta(meta);
    if (text !== undefined) {
      await this.db.meta.set(CARMA_META_KEY, JSON.parse(text));
      this.metaText = text;
    }
    await this.saveCheckpoint(meta);
  }

  async put(items: FragmentWrite[], meta?: StoreMeta): Promise<void> {
    const metaText = this.changedMeta(meta);
    const withMeta = metaText !== undefined;
    if (items.length === 0 && !withMeta) return;
    // The records carry every access so far: accesses not yet written are in them.
    for (const { fragment } of items) this.forgetTouches(fragment.id);
    await this.db.fragments.put(
      items.map(({ fragment, vector, change }) => ({
        ...toInput(fragment, vector),
        change: toChangeInput(change),
      })),
      {
        keepVectors: true,
        ...(withMeta ? { meta: { [CARMA_META_KEY]: JSON.parse(metaText) } } : {}),
      },
    );
    if (withMeta) this.metaText = metaText;
    this.written_ += items.length;
    this.noteOwn(
      items.length,
      items.map((i) => i.fragment.id),
    );
    await this.saveCheckpoint(meta);
  }

  async add(
    items: FragmentWrite[],
    options: { meta?: StoreMeta; lowestLabel: number; onLabeled?: (first: number) => void },
  ): Promise<void> {
    const metaText = this.changedMeta(options.meta);
    const withMeta = metaText !== undefined;
    if (items.length === 0) return;
    const { numbers } = await this.db.fragments.putNumbered(
      items.map(({ fragment, vector, change }) => ({
        ...toInput(fragment, vector),
        change: toChangeInput(change),
      })),
      {
        keepVectors: true,
        numbering: { counter: LABEL_COUNTER_KEY, attribute: 'label', floor: options.lowestLabel },
        ...(options.onLabeled ? { onNumbered: options.onLabeled } : {}),
        ...(withMeta ? { meta: { [CARMA_META_KEY]: JSON.parse(metaText) } } : {}),
      },
    );
    items.forEach(({ fragment }, i) => {
      fragment.label = numbers[i] as number;
    });
    if (withMeta) this.metaText = metaText;
    this.written_ += items.length;
    this.noteOwn(
      items.length,
      items.map((i) => i.fragment.id),
    );
    await this.saveCheckpoint(options.meta);
  }

  noteFollowed(changes: number): void {
    if (this.data && this.localCheckpoint) this.written_ += changes;
  }

  /** Notes history rows this store wrote (see `takeOwnWrites`). */
  private noteOwn(rows: number, ids: readonly string[]): void {
    this.own.rows += rows;
    for (const id of ids) this.own.ids.add(id);
  }

  ownWrites(): Readonly<{ rows: number; ids: ReadonlySet<string> }> {
    return this.own;
  }

  rollbacks(): number {
    return this.data?.rollbacks() ?? 0;
  }

  takeOwnWrites(): { rows: number; ids: Set<string> } {
    const own = this.own;
    this.own = { rows: 0, ids: new Set() };
    return own;
  }

  async read(ids: readonly string[]): Promise<Array<FragmentRecord | undefined>> {
    return (await this.readStored(ids, false)).map((f) => f?.record);
  }

  readWithVectors(ids: readonly string[]): Promise<Array<RecordWithVector | undefined>> {
    return this.readStored(ids, true);
  }

  private async readStored(
    ids: readonly string[],
    vectors: boolean,
  ): Promise<Array<RecordWithVector | undefined>> {
    const found = new Map<string, RecordWithVector>();
    for (let i = 0; i < ids.length; i += PAGE) {
      const page = await this.db.fragments.getMany(ids.slice(i, i + PAGE), { vectors });
      for (const f of page) {
        const record = toRecord(f);
        if (record) found.set(f.id, { record, vector: f.vector ?? undefined });
      }
    }
    return ids.map((id) => found.get(id));
  }

  async linkingTo(ids: readonly string[]): Promise<FragmentRecord[]> {
    if (ids.length === 0) return [];
    const gone = new Set(ids);
    // The links are in the attributes: the database finds them through its index of the
    // fragments that link to others.
    const candidates = await this.db.fragments.linkingTo(ids);
    const records = await this.read(candidates);
    return records.filter((f): f is FragmentRecord => f?.links.some((id) => gone.has(id)) === true);
  }

  inTransaction(): boolean {
    return this.data?.inTransaction() ?? false;
  }

  async readMeta(): Promise<StoreMeta | undefined> {
    const stored = parseMeta(await this.db.meta.get(CARMA_META_KEY));
    this.metaText = JSON.stringify(stored);
    return this.withCheckpoint(stored);
  }

  async delete(items: Array<{ id: string; change: FragmentChange }>): Promise<void> {
    if (items.length === 0) return;
    for (const { id } of items) this.forgetTouches(id);
    // One history row per fragment that was there to delete: as many as it counts.
    const deleted = await this.db.fragments.delete(
      items.map((i) => i.id),
      { changes: items.map((i) => toChangeInput(i.change)) },
    );
    this.written_ += items.length;
    this.noteOwn(
      deleted,
      items.map((i) => i.id),
    );
  }

  async eraseNamespace(namespace: string, ids: readonly string[]): Promise<NamespaceErasure> {
    const erased = await this.db.fragments.eraseNamespace(namespace, { ids });
    for (const id of erased.ids) this.forgetTouches(id);
    this.written_ += erased.ids.length;
    // One `erase` row per fragment erased.
    this.noteOwn(erased.ids.length, erased.ids);
    return erased;
  }

  async replaceVectors(
    items: Array<{ id: string; vector: Float32Array; change: FragmentChange }>,
    meta: StoreMeta,
  ): Promise<void> {
    const text = JSON.stringify(this.storedPart(meta));
    await this.db.fragments.replaceVectors(
      items.map((i) => ({ id: i.id, vector: i.vector, change: toChangeInput(i.change) })),
      { dimension: meta.dimension, meta: { [CARMA_META_KEY]: JSON.parse(text) } },
    );
    this.metaText = text;
    await this.saveCheckpoint(meta);
    this.written_ += items.length;
    this.noteOwn(
      items.length,
      items.map((i) => i.id),
    );
  }

  async vectors(ids: readonly string[]): Promise<Array<Float32Array | undefined>> {
    const found = new Map<string, Float32Array>();
    for (let i = 0; i < ids.length; i += PAGE) {
      for (const f of await this.db.fragments.getMany(ids.slice(i, i + PAGE))) {
        if (f.vector) found.set(f.id, f.vector);
      }
    }
    return ids.map((id) => found.get(id));
  }

  async history(id: string): Promise<FragmentChange[]> {
    const out: FragmentChange[] = [];
    let after = 0;
    for (;;) {
      const page = await this.db.fragments.history(id, { after, limit: PAGE });
      // An erased fragment keeps only a data-less `erase` row: it has no history to show.
      for (const c of page) if (c.kind !== 'erase') out.push(toChange(c.kind, c.at, c.data));
      if (page.length < PAGE) return out;
      after = (page[page.length - 1] as { seq: number }).seq;
    }
  }

  async changedSince(seq: number): Promise<{ ids: Set<string>; seq: number }> {
    const { ids, seq: latest } = await this.db.fragments.changedSince(seq);
    return { ids: new Set(ids), seq: latest };
  }

  latestSeq(): Promise<number> {
    return this.db.fragments.latestChange();
  }

  watchChanges(handlers: ChangeHandlers): ChangeWatch | undefined {
    return this.db.watchChanges(handlers);
  }

  withClusterLock<T>(name: string, fn: () => Promise<T>): Promise<ClusterLockResult<T>> {
    return this.db.withClusterLock(name, fn);
  }

  touch(fragment: FragmentRecord): void {
    // Open to read only, accesses are not recorded (a search changes nothing).
    if (this.closed || this.readOnly !== undefined) return;
    const t = this.touches.get(fragment.id);
    if (t) {
      t.count++;
      t.at = Math.max(t.at, fragment.accessedAt);
    } else {
      this.touches.set(fragment.id, { count: 1, at: fragment.accessedAt });
      if (this.touches.size >= MAX_PENDING_TOUCHES) {
        this.flushInBackground();
        return;
      }
    }
    if (this.touchTimer === undefined) {
      this.touchTimer = setTimeout(() => this.flushInBackground(), TOUCH_DELAY_MS);
      this.touchTimer.unref();
    }
  }

  /** What fails is kept for the next flush; close() reports the error. */
  private flushInBackground(): void {
    this.flush().catch(() => undefined);
  }

  flush(): Promise<void> {
    if (this.touchTimer !== undefined) {
      clearTimeout(this.touchTimer);
      this.touchTimer = undefined;
    }
    return this.flushes.run(() => this.writeTouches());
  }

  /** Accesses of a fragment whose record is being written whole (its counts with them). */
  private forgetTouches(id: string): void {
    this.touches.delete(id);
    this.writing.delete(id);
  }

  /**
   * Writes the accesses recorded so far, `USES_PER_WRITE` fragments at a time with the
   * event loop turning between them; what fails is kept for the next flush.
   */
  private async writeTouches(): Promise<void> {
    if (this.touches.size === 0) return;
    this.writing = this.touches;
    this.touches = new Map();
    let failure: unknown;
    while (this.writing.size > 0 && failure === undefined) {
      const slice: Array<{ id: string; count: number; at: number }> = [];
      for (const [id, t] of this.writing) {
        slice.push({ id, count: t.count, at: t.at });
        this.writing.delete(id);
        if (slice.length === USES_PER_WRITE) break;
      }
      try {
        await this.db.fragments.recordUses(slice);
      } catch (error) {
        failure = error;
        for (const u of slice) this.writing.set(u.id, u);
      }
      // Pending I/O and timers run (a search waiting on the socket) before the next slice.
      if (this.writing.size > 0 && failure === undefined) await nextTurn();
    }
    // Not written: back among the accesses to write, merged with those made since.
    for (const [id, { count, at }] of this.writing) {
      const t = this.touches.get(id);
      if (t) {
        t.count += count;
        t.at = Math.max(t.at, at);
      } else this.touches.set(id, { count, at });
    }
    this.writing = new Map();
    if (failure !== undefined) throw failure;
  }

  async close(): Promise<void> {
    if (this.closed || !this.data) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      if (!this.options.data) await this.data.close();
      this.data = undefined;
    }
  }
}

/** A `FragmentStore` on @aios/data; see `DataFragmentStoreOptions`. */
export function createDataFragmentStore(options: DataFragmentStoreOptions = {}): DataFragmentStore {
  return new DataFragmentStore(options);
}
