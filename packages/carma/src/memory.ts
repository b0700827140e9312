/**
 * The `Memory` class: the public face of a CARMA memory. It owns the memory's lifecycle
 * (open, close) and runs mutations one at a time; the work itself is done by the modules
 * it hands its shared context to.
 */
import {
  AiosError,
  createHashing,
  type Hashing,
  type ImplementationReport,
  integerInRange,
  invalidInput,
  type ReadOnlyCause,
  ReentrantQueue,
  readOnlyRefusal,
} from '@aios/utils';
import { addFragments } from './add.js';
import { AddGroups } from './add-groups.js';
import { AllowListCache } from './allow-list.js';
import { ChangeFollower, DEFAULT_FOLLOW_POLL_MS, type FollowStatus } from './change-follower.js';
import { CheckpointMoved } from './checkpoint-moved.js';
import { runConsolidation } from './consolidation.js';
import type { MemoryContext } from './context.js';
import { embedAhead } from './document-vectors.js';
import { deleteFragment, reinforceFragments, updateFragment } from './edits.js';
import { type Embedder, HashingEmbedder } from './embedder.js';
import { normalizeRoles } from './embedding-roles.js';
import { type CarmaEngine, createEngine } from './engine/index.js';
import { eraseNamespace, type NamespaceErasure } from './erase.js';
import { CarmaErrorCode } from './errors.js';
import { compileFilter, type Filter } from './filter.js';
import { catchUp, readEveryRecord, settled, upToDate } from './follow.js';
import { FragmentState, fragmentNotFound } from './fragment-state.js';
import type { FragmentChange, FragmentRecord, FragmentStore, Metadata } from './fragment-store.js';
import { defaultStore, type IndexOrigin, type LexicalOrigin, loadMemory } from './load.js';
import { memoryLogger } from './memory-logger.js';
import type {
  AddResult,
  ConsolidateOptions,
  ConsolidationReport,
  ConsolidationTask,
  Fragment,
  FragmentInput,
  MemoryOptions,
  MemoryStats,
  ProgressEvent,
  SearchOptions,
  SearchResult,
} from './memory-types.js';
import { QueryVectors } from './query-vectors.js';
import { publicFragment } from './records.js';
import { searchFragments } from './search.js';
import { COMPACT_IDLE_MS, SearchIndexes } from './search-indexes.js';
import { switchEmbedder } from './switch-embedder.js';
import {
  checkId,
  checkMemoryOptions,
  checkNamespace,
  hnswParams,
  type ParsedConsolidation,
  parseConsolidation,
  parseFragmentInputs,
  resolveFusion,
} from './validation.js';
import { checkpointIfDue, checkpointNow, createIndexFileState } from './vector-index-file.js';

export type { FollowStatus } from './change-follower.js';
export type { Metadata, MetadataValue } from './fragment-store.js';
export type { IndexOrigin } from './load.js';
export {
  type AddResult,
  type ConsolidateOptions,
  type ConsolidationReport,
  type ConsolidationTask,
  DEFAULT_FUSION,
  DEFAULT_NAMESPACE,
  type Explanation,
  type Fragment,
  type FragmentInput,
  type FusionOptions,
  HNSW_AUTO_THRESHOLD,
  MAX_NAMESPACE_LENGTH,
  MAX_TEXT_LENGTH,
  MEMORY_DATABASE_FILE,
  type MemoryOptions,
  type MemoryStats,
  MODEL_LEXICAL_WEIGHT,
  type NearDuplicate,
  type ProgressEvent,
  type SearchMode,
  type SearchOptions,
  type SearchResult,
} from './memory-types.js';

/** The cluster lock of a consolidation (`DataStore.withClusterLock`). */
export const CONSOLIDATION_LOCK = 'carma.consolidate';

/** Opens started again when another process's checkpoint replaced the files being read. */
const OPEN_ATTEMPTS = 4;

/**
 * CARMA's memory: fragments with namespaces, metadata, importance and history; dedup on
 * write; hybrid (BM25 + vector) search with filters; reinforcement; persistence.
 */
export class Memory {
  private readonly ctx: MemoryContext;
  private closed = false;
  /** When this memory last wrote, and the timer that compacts once writes pause. */
  private lastWrite = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /**
   * Mutations, one at a time, so that concurrent calls cannot interleave; those made
   * inside `exclusive` run inside its turn.
   */
  private readonly mutations = new ReentrantQueue();
  /** Adds waiting for their turn, stored together (group commit). */
  private readonly addGroups = new AddGroups(
    this.mutations,
    (store) =>
      this.mutate(store, {
        // Opened from a checkpoint, an add needs no other record (the label map finds the
        // texts already held), unless it merges near-duplicates into them.
        onDemand: this.ctx.fragments.textsOnDemand && !this.ctx.options.mergeNearDuplicates,
        keepsRowsBeside: true,
      }),
    (parsed, ready) => addFragments(this.ctx, parsed, ready),
  );
  /** Keeps the memory up to date with a store other servers write to (notices, polls). */
  private readonly follower: ChangeFollower;
  private origin: IndexOrigin = 'none';
  private deferred = false;
  private lexicalFrom: LexicalOrigin = 'texts';

  private constructor(
    readonly engine: CarmaEngine,
    hashing: Hashing,
    /** The same store as `ctx.store`; a member too, as tests close it to simulate a crash. */
    private readonly store: FragmentStore,
    embedder: Embedder,
    options: MemoryOptions,
  ) {
    checkMemoryOptions(options);
    if (options.followPollMs !== undefined) {
      integerInRange(options.followPollMs, 'followPollMs', 10, 3_600_000);
    }
    const fusion = resolveFusion(options.fusion, embedder instanceof HashingEmbedder);
    const fragments = new FragmentState();
    this.ctx = {
      engine,
      hashing,
      store,
      embedder,
      options,
      now: options.now ?? Date.now,
      fusion,
      fragments,
      indexes: new SearchIndexes(engine, hnswParams(options.hnsw), options.bm25),
      allowLists: new AllowListCache(fragments),
      files: createIndexFileState(),
      follow: { seq: 0, doubt: new Set(), uncommitted: new Set(), rollbacks: 0 },
      queryVectors: new QueryVectors(),
    };
    this.ctx.indexes.background = {
      failed: (error) =>
        memoryLogger(this.ctx).warn(
          { reason: error instanceof Error ? error.message : String(error) },
          'compacting the vector index or building its graph failed: tried again later',
        ),
      // A check once idle may have found this compaction running: it is due again now.
      settled: () => this.armIdleCheck(),
    };
    this.follower = new ChangeFollower({
      store,
      position: () => this.ctx.follow.seq,
      catchUp: (started) =>
        this.mutations.run(async () => {
          started();
          if (this.closed) return;
          await catchUp(this.ctx);
          this.afterWrite(false);
          // A server that only follows checkpoints its own index too (shared store).
          await checkpointIfDue(this.ctx);
        }),
      pollMs: options.followPollMs ?? DEFAULT_FOLLOW_POLL_MS,
      failed: (error) =>
        memoryLogger(this.ctx).warn(
          { reason: error instanceof Error ? error.message : String(error) },
          'following the store failed: tried again at the next notice or poll',
        ),
    });
  }

  /** Opens (or creates) a memory. */
  static async open(options: MemoryOptions = {}): Promise<Memory> {
    const engine = createEngine({ native: options.native });
    const hashing = await createHashing({ native: options.native });
    const store = options.store ?? defaultStore(options);
    try {
      const embedder = options.embedder ?? new HashingEmbedder(engine, options.dimension ?? 384);
      const attempt = async (refuseMoved: boolean) => {
        const memory = new Memory(engine, hashing, store, embedder, options);
        try {
          return { memory, origins: await loadMemory(memory.ctx, { refuseMoved }) };
        } catch (error) {
          if (error instanceof CheckpointMoved) return undefined;
          throw error;
        }
      };
      // Another process's checkpoint may replace the files being read: read the new ones.
      // The last attempt rebuilds what it cannot read rather than start again.
      let opened: Awaited<ReturnType<typeof attempt>>;
      for (let i = 1; !opened; i++) opened = await attempt(i < OPEN_ATTEMPTS);
      const { memory, origins } = opened;
      memory.origin = origins.vectors;
      memory.lexicalFrom = origins.lexical;
      memory.follower.start();
      return memory;
    } catch (error) {
      // A store opened here is closed again (a database file stays locked otherwise).
      if (!options.store) await store.close().catch(() => undefined);
      throw error;
    }
  }

  /** The embedder fragments and queries are embedded with (another after a switch). */
  get embedder(): Embedder {
    return this.ctx.embedder;
  }

  get implementation(): ImplementationReport['implementation'] {
    return this.engine.implementation;
  }

  get report(): ImplementationReport {
    return this.engine.report;
  }

  get size(): number {
    return this.ctx.fragments.size;
  }

  private checkOpen(): void {
    if (this.closed) throw new AiosError(CarmaErrorCode.MEMORY_CLOSED, 'this memory is closed');
  }

  /**
   * Why the memory is open to read only: its store's database is in a folder that cannot be
   * written (a read-only filesystem, another user's home). Such a memory searches, lists
   * and reads as any other, from its last checkpoint's index files, and writes nothing:
   * no access of a fragment, no index file, no compaction; every change (`add`, `update`,
   * `delete`, `reinforce`, `eraseNamespace`, `consolidate`, `switchEmbedder`,
   * `writeIndexFiles`) fails at once with `IO_READ_ONLY`, changing nothing. Undefined when
   * it takes writes.
   */
  get readOnly(): ReadOnlyCause | undefined {
    return this.store.readOnly;
  }

  /** Fails with `IO_READ_ONLY` when the memory is open to read only (`what`: the change refused). */
  private checkWritable(what: string): void {
    this.checkOpen();
    const cause = this.store.readOnly;
    if (cause === undefined) return;
    throw readOnlyRefusal(
      this.ctx.options.dir ?? this.store.location ?? 'this memory',
      'the memory',
      cause,
      what,
    );
  }

  /**
   * Runs a mutation (one at a time) on a state that has every change other processes
   * made, and takes in what they made meanwhile once it is done, so that searches
   * seldom have to wait for a mutation to catch up.
   */
  private mutate<T>(
    fn: () => Promise<T>,
    options: { onDemand?: boolean; keepsRowsBeside?: boolean } = {},
  ): Promise<T> {
    return this.mutations.run(async () => {
      this.checkWritable('changing it');
      // Rows kept beside the index read from its file go into it (off the JS thread) before
      // a write that needs every row in it; adds, updates and deletes reach the index
      // through `addVectors` and `removeVectors`, which leave its rows mapped while few
      // rows change (rows-beside.ts).
      if (!options.keepsRowsBeside) await this.ctx.indexes.settle();
      // Every record, for a memory opened from a checkpoint, but for a write that can do
      // with the label map (an add).
      if (!options.onDemand) await readEveryRecord(this.ctx);
      // The lookups by text hash every write may need (dedup, a new text's holder), built
      // a slice at a time before the first one rather than in a block searches wait for.
      if (!this.ctx.fragments.onDemand) await this.ctx.fragments.prepareLookups();
      return this.caughtUp(fn);
    });
  }

  /** Runs `fn` between two catch-ups with the database (none once the memory is closed). */
  private async caughtUp<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.closed) await catchUp(this.ctx);
    const result = await fn();
    if (!this.closed) {
      await catchUp(this.ctx);
      this.afterWrite(true);
    }
    return result;
  }

  /**
   * After a write of this memory (`own`) or one taken in from another process: compacts
   * the vector index in the background once writes left enough dead rows, and checks
   * again (for a lower share) once this memory's writes pause.
   */
  private afterWrite(own: boolean): void {
    // Open to read only, the index read from the files stays as it is (no compaction).
    if (this.store.readOnly !== undefined) return;
    if (own) this.lastWrite = performance.now();
    this.ctx.indexes.maybeCompact();
    this.armIdleCheck();
  }

  private armIdleCheck(): void {
    if (this.closed) return;
    this.idleTimer ??= setTimeout(() => this.whenIdle(), COMPACT_IDLE_MS).unref();
  }

  private whenIdle(): void {
    this.idleTimer = undefined;
    if (this.closed) return;
    const quiet = performance.now() - this.lastWrite;
    if (quiet < COMPACT_IDLE_MS) {
      this.idleTimer = setTimeout(() => this.whenIdle(), COMPACT_IDLE_MS - quiet).unref();
    } else {
      this.ctx.indexes.maybeCompact(true);
    }
  }

  /**
   * Brings the memory up to date with the database when another process wrote to it.
   * While the store's notices are trusted they do it in the background, and this asks
   * nothing (see change-follower.ts).
   */
  private async follow(): Promise<void> {
    // Inside a transaction of the store its own uncommitted writes have no notice yet.
    const { follow, store } = this.ctx;
    if (this.follower.trusted && settled(follow) && !store.inTransaction()) return;
    if (await upToDate(this.ctx)) return;
    await this.mutations.run(async () => {
      if (!this.closed) await catchUp(this.ctx);
    });
  }

  /**
   * Reads every fragment's record, when the memory was opened from a checkpoint and has
   * not yet (with what other processes changed since it last looked). What needs them
   * does it itself; a repair of the stored labels (`aios doctor --repair`) asks for it.
   */
  async loadAll(): Promise<void> {
    if (!this.ctx.fragments.onDemand) return;
    await this.mutations.run(async () => {
      this.checkOpen();
      await readEveryRecord(this.ctx);
    });
  }

  /**
   * Whether every fragment's record is in memory. A memory opened from a checkpoint reads
   * only the records of the search results it returns, and adds, updates, reinforces and
   * takes in other processes' writes from its label map, until something needs them all
   * (a listing, a delete, a filter).
   */
  get allLoaded(): boolean {
    return this.ctx.fragments.onDemand === undefined;
  }

  /**
   * Takes in what other processes sharing the database added, changed or deleted since
   * this memory last looked. Searches and writes do it themselves; call it before `get`,
   * `list`, `namespaces` or `stats` when another process may have written.
   */
  async refresh(): Promise<void> {
    this.checkOpen();
    await this.follow();
  }

  /**
   * Runs `fn` while no other mutation of this memory runs (nor a background catch-up);
   * the memory's own calls made from inside `fn` run in it, in order.
   *
   * Take it around a transaction of the memory's data store that calls the memory:
   * the memory's writes take its turn before the store's queue, and a transaction holds
   * that queue from its first statement, so a memory call inside it that waited for
   * another mutation (itself waiting for the store) would never end.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.checkOpen();
    return this.mutations.run(fn);
  }

  /** Adds one fragment (see `addMany`). */
  async add(input: FragmentInput | string): Promise<AddResult> {
    const [result] = await this.addMany([input]);
    return result as AddResult;
  }

  /**
   * Adds fragments. Identical text already in the namespace is not stored again
   * (`duplicate`); near-duplicates are reported, or merged with `mergeNearDuplicates`.
   * Everything is validated before anything is stored.
   */
  async addMany(inputs: Array<FragmentInput | string>): Promise<AddResult[]> {
    this.checkWritable('adding to it');
    const parsed = parseFragmentInputs(inputs);
    // A remote model's embedding (the slow part, waiting on the server) runs before the
    // batch's turn among the mutations, so that a batch is embedded while the one before
    // it is stored. The built-in embedder computes on this thread: nothing to overlap.
    const { fragments, options } = this.ctx;
    let ready: Awaited<ReturnType<typeof embedAhead>> | undefined;
    if (!(this.embedder instanceof HashingEmbedder)) {
      if (!fragments.textsOnDemand || options.mergeNearDuplicates) await this.loadAll();
      ready = await embedAhead(this.ctx, parsed); // what is stored already needs no vector
    }
    // Stored with the adds that wait for the same turn (add-groups.ts).
    return this.addGroups.add(parsed, ready);
  }

  /** The fragment, or undefined when no fragment has this id. */
  async get(id: string): Promise<Fragment | undefined> {
    this.checkOpen();
    if (typeof id !== 'string') throw invalidInput('id', id, 'a fragment id');
    // Opened from a checkpoint: the one record, read from the store.
    const f = await this.ctx.fragments.recordOf(this.ctx.store, id);
    return f ? publicFragment(f) : undefined;
  }

  /**
   * The ids of the fragments held that start or end with `part` (how people give an id
   * they read shortened), in no set order. It reads no record, so it costs a pass over the
   * ids in memory, not a listing.
   */
  idsWithPart(part: string): string[] {
    this.checkOpen();
    if (typeof part !== 'string' || part === '') {
      throw invalidInput('part', part, 'a non-empty part of a fragment id');
    }
    return this.ctx.fragments.idsWithPart(part);
  }

  /** Changes text, metadata (replaced whole), importance or core; keeps the old version in history. */
  async update(
    id: string,
    patch: { text?: string; metadata?: Metadata; importance?: number; core?: boolean },
  ): Promise<Fragment> {
    this.checkWritable(`changing fragment ${id}`);
    // Opened from a checkpoint, the label map finds another holder of a new text when it
    // knows the texts (format 2).
    return this.mutate(() => updateFragment(this.ctx, id, patch), {
      onDemand: this.ctx.fragments.textsOnDemand,
      keepsRowsBeside: true,
    });
  }

  /** Deletes a fragment (its history stays readable). */
  async delete(id: string): Promise<void> {
    this.checkWritable(`deleting fragment ${id}`);
    // Opened from a checkpoint, the one record and those linking to it are read.
    return this.mutate(() => deleteFragment(this.ctx, id), {
      onDemand: true,
      keepsRowsBeside: true,
    });
  }

  /**
   * Erases a namespace for good: its fragments, their vectors and index entries, the
   * history of every fragment ever in it (deleted ones too) and its source records, with
   * the index file rewritten without them. What remains elsewhere (free pages of the
   * database file, its log) is for `DataStore.compact` to clear.
   */
  async eraseNamespace(namespace: string): Promise<NamespaceErasure> {
    this.checkOpen();
    // Named, never the default by omission.
    if (namespace === undefined) throw invalidInput('namespace', namespace, 'a namespace');
    const ns = checkNamespace(namespace);
    this.checkWritable(`erasing namespace ${ns}`);
    return this.mutate(() => eraseNamespace(this.ctx, ns));
  }

  /** Every recorded change of a fragment, oldest first (also after it was deleted). */
  async history(id: string): Promise<FragmentChange[]> {
    this.checkOpen();
    checkId(id);
    const h = await this.ctx.store.history(id);
    if (h.length === 0) throw fragmentNotFound(id);
    return h;
  }

  /** Fragments, optionally of one namespace and matching a filter, oldest first. */
  async list(options: { namespace?: string; filter?: Filter } = {}): Promise<Fragment[]> {
    this.checkOpen();
    const ns = options.namespace === undefined ? undefined : checkNamespace(options.namespace);
    const predicate = compileFilter(options.filter);
    await this.loadAll();
    const out: FragmentRecord[] = [];
    for (const f of this.ctx.fragments.byId.values()) {
      if (ns !== undefined && f.namespace !== ns) continue;
      if (predicate && !predicate(f)) continue;
      out.push(f);
    }
    out.sort((a, b) => a.createdAt - b.createdAt || a.label - b.label);
    return out.map(publicFragment);
  }

  namespaces(): Record<string, number> {
    return this.ctx.fragments.namespaceCounts();
  }

  /**
   * Marks fragments as useful (e.g. used in a good answer): importance rises by `amount`
   * (default 0.1, capped at 1) and the reinforcement is recorded in history.
   */
  async reinforce(ids: string | string[], amount = 0.1): Promise<Fragment[]> {
    this.checkWritable('reinforcing fragments');
    return this.mutate(() => reinforceFragments(this.ctx, ids, amount), {
      onDemand: true,
      keepsRowsBeside: true,
    });
  }

  /**
   * BM25's (Lucene) IDF of each term over the live fragments, every namespace (a term no
   * fragment has counts df = 0): how informative a word is in this memory. Terms are
   * tokens as search cuts them (lower-case letter and digit runs).
   */
  async termIdf(terms: readonly string[]): Promise<Float64Array> {
    this.checkOpen();
    if (!Array.isArray(terms) || terms.some((t) => typeof t !== 'string')) {
      throw invalidInput('terms', terms, 'an array of strings');
    }
    await this.follow();
    return this.ctx.indexes.lexical.idf([...terms]);
  }

  /** Finds the fragments that best answer `query`. */
  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    this.checkOpen();
    await this.follow();
    return searchFragments(this.ctx, query, options, () => this.loadAll());
  }

  /**
   * The "dream cycle": clusters each namespace (spherical k-means, k-means++ seeding, in
   * the engine), merges near-duplicates within a cluster into the most important (then
   * oldest) fragment, keeping provenance (`mergedFrom`, histories), and links related
   * fragments. Runs in the background, a cluster at a time between other operations,
   * with progress; never on the request path.
   */
  consolidate(options: ConsolidateOptions = {}): ConsolidationTask {
    // Bad options fail here, not later inside a background task nobody may be awaiting.
    if (typeof options !== 'object' || options === null) {
      throw invalidInput('options', options, 'an options object');
    }
    const parsed = parseConsolidation(options, this.ctx.options.nearDuplicateThreshold);
    this.checkWritable('consolidating it');
    let cancelled = false;
    const done = this.consolidateNow(parsed, () => cancelled);
    return {
      done,
      cancel: () => {
        cancelled = true;
      },
    };
  }

  private async consolidateNow(
    parsed: ParsedConsolidation,
    isCancelled: () => boolean,
  ): Promise<ConsolidationReport> {
    this.checkOpen();
    await this.loadAll();
    const run = () =>
      runConsolidation(this.ctx, parsed, {
        exclusive: (step) => this.mutations.run(() => this.caughtUp(step)),
        stopped: () => isCancelled() || this.closed,
      });
    if (!this.store.withClusterLock) return run();
    // Servers sharing the store consolidate it one at a time: two at once would merge the
    // same fragments from different snapshots. Asked while another runs: skipped.
    const turn = await this.store.withClusterLock(CONSOLIDATION_LOCK, run);
    if (turn.status === 'ran') return turn.value;
    return { namespaces: 0, clusters: 0, merged: [], linked: 0, cancelled: false, skipped: true };
  }

  /**
   * Moves the memory to another embedder (another model, dimension or query/document
   * split) while it keeps serving: every fragment is embedded with `embedder` in the
   * background; searches and writes meanwhile use the old embedder and index; then what
   * changed since is embedded as well and the new vectors, embedder and index replace the
   * old ones in one transaction (history: an `update` per fragment). Cancelling, a
   * failure or closing before the swap leaves the memory as it was (`done` rejects).
   */
  switchEmbedder(
    embedder: Embedder,
    options: { onProgress?: (event: ProgressEvent) => void } = {},
  ): { done: Promise<void>; cancel(): void } {
    this.checkOpen();
    if (typeof embedder?.embed !== 'function' || typeof embedder.id !== 'string') {
      throw invalidInput('embedder', embedder, 'an Embedder (id, dimension, embed)');
    }
    this.checkWritable(`moving it to ${embedder.id}`);
    let cancelled = false;
    const done = this.loadAll().then(() =>
      switchEmbedder(this.ctx, embedder, {
        exclusive: (step) =>
          this.mutations.run(() => {
            this.checkOpen();
            return this.caughtUp(step);
          }),
        stopped: () => cancelled || this.closed,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      }),
    );
    return {
      done,
      cancel: () => {
        cancelled = true;
      },
    };
  }

  stats(): MemoryStats {
    const { indexes, store, options } = this.ctx;
    return {
      fragments: this.size,
      namespaces: this.namespaces(),
      embedder: this.embedder.id,
      dimension: indexes.dimension,
      roles: normalizeRoles(this.embedder.roles) ?? null,
      implementation: this.implementation,
      hnsw: indexes.hnsw,
      deadRows: indexes.deadRows,
      location: options.dir ?? store.location,
    };
  }

  /**
   * Writes the accesses recorded so far and, when the memory has a directory, the vector
   * index (graph included) to `index-<generation>.bin` and the lexical index and label map
   * beside it, named in the store's meta; unless the files named hold all but a few changes
   * (`replayLimit`), which the next open replays from the store's history, or the memory is
   * large enough to leave them to another process (`deferCheckpointFrom`).
   */
  flush(): Promise<void> {
    return this.mutations.run(async () => {
      this.checkOpen();
      const outcome = await checkpointNow(this.ctx, { allowReplay: true, defer: true });
      this.deferred = outcome === 'deferred';
    });
  }

  /**
   * How the memory follows its store: by the store's notices, by polling while they are
   * not live, or by a check before each search (a store without notices, SQLite).
   */
  followStatus(): FollowStatus {
    return this.follower.status();
  }

  /** Where the vector index came from when the memory was opened. */
  get indexOrigin(): IndexOrigin {
    return this.origin;
  }

  /** Where the lexical index came from when the memory was opened. */
  get lexicalOrigin(): LexicalOrigin {
    return this.lexicalFrom;
  }

  /**
   * Writes the index files now when they lag behind the store (what this memory or
   * another process changed since them), so that the next opens replay nothing; even
   * when this memory changed nothing. A graph being built is waited for, and written.
   * `busy`: another process is writing them.
   */
  writeIndexFiles(): Promise<'written' | 'current' | 'busy' | 'none'> {
    return this.mutations.run(async () => {
      this.checkWritable('writing its index files');
      // The files are written for the next opens (a process of their own writes them for
      // a large memory): with the graph their searches walk. Written while it was still
      // being built, they held none, and every later open started building it again.
      await this.ctx.indexes.graphReady();
      const outcome = await checkpointNow(this.ctx, { force: true });
      return outcome === 'written' || outcome === 'current' || outcome === 'busy'
        ? outcome
        : 'none';
    });
  }

  /**
   * Whether the last `flush()` or `close()` left index files due to be written to another
   * process (`deferCheckpointFrom`).
   */
  get checkpointDeferred(): boolean {
    return this.deferred;
  }

  /** Flushes and closes; the memory cannot be used afterwards. */
  async close(): Promise<void> {
    // No more background catch-ups; the listening connection and the poll timer end.
    await this.follower.stop();
    return this.mutations.run(async () => {
      if (this.closed) return;
      // A compaction left unfinished is the next writer's to do again; a graph being
      // built is finished when this memory wrote (the checkpoint below saves it), unless
      // the memory is large enough to leave its files to another process, which builds
      // the graph for them itself (`writeIndexFiles`): waiting for it here was waiting
      // for a graph thrown away.
      clearTimeout(this.idleTimer);
      const from = this.ctx.options.deferCheckpointFrom;
      const defers = from !== undefined && this.ctx.indexes.vectorCount >= from;
      await this.ctx.indexes.stopBackground({ keepGraph: this.ctx.store.written > 0 && !defers });
      try {
        // Open to read only, nothing is written (checkpointNow says `none`).
        const outcome = await checkpointNow(this.ctx, { allowReplay: true, defer: true });
        this.deferred = outcome === 'deferred';
      } finally {
        this.closed = true;
        await this.store.close();
      }
    });
  }
}

/** Opens (or creates) a memory; see `MemoryOptions`. */
export function openMemory(options: MemoryOptions = {}): Promise<Memory> {
  return Memory.open(options);
}
