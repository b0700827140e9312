/**
 * Keeping the fragments of one file in step with it. Each piece of the file is known by
 * the hash of its text (CARMA's content hash) and mapped, in the data store's source index,
 * to the fragment it became. Ingesting the file again then tells apart, for every piece:
 * one still stored as it was (kept), one the user edited (kept as edited), one the user
 * deleted (left out: it does not come back), and a new one (added). Pieces the file no
 * longer has are removed with their fragments, unless the user edited them: those are kept
 * and reported as conflicts.
 */
import { existsSync } from 'node:fs';
import type { AddResult, Fragment, Metadata } from '@aios/carma';
import type { SourceFile, SourcePiece } from '@aios/data';
import type { Hashing } from '@aios/utils';
import type { Chunk } from './chunk.js';
import { type Place, placesOf } from './places.js';
import { atomically, type IngestTarget, sourceOf } from './target.js';

/** A fragment the user edited whose piece the file no longer has: kept, for the user to decide. */
export interface SyncConflict {
  /** The edited fragment (kept as the user left it). */
  id: string;
  namespace: string;
  path: string;
  line: number | null;
  /** Its text now. */
  text: string;
  /** The text it had when it was ingested. */
  ingested: string;
}

/** What one file's sync did, beyond what CARMA's adds report. */
export interface SyncCounts {
  /** Pieces stored as they were ingested, kept. */
  kept: number;
  /** Pieces whose fragment the user edited, kept as edited. */
  edited: number;
  /** Pieces whose fragment the user deleted, left out. */
  deleted: number;
  /** Fragments removed because the file no longer has their piece. */
  removed: number;
  /** Pieces with the same text as an earlier piece of the file (stored once). */
  repeated: number;
  conflicts: SyncConflict[];
}

/** What a piece's fragment is now, next to the piece. */
type PieceState = 'gone' | 'same' | 'edited';

function stateOf(f: Fragment | undefined, pieceHash: string): PieceState {
  if (!f) return 'gone';
  // A piece merged into a near-duplicate on add lives on in that fragment, unedited.
  if (f.contentHash === pieceHash || f.mergedFrom.includes(pieceHash)) return 'same';
  return 'edited';
}

/** The fragments ingested from a path before the source index existed, oldest first. */
export type LegacyIndex = (path: string) => Promise<string[]>;

/** The file as read for this ingest: what its record says once it is done. */
export type FileState = Pick<SourceFile, 'path' | 'size' | 'modifiedAt'> & { contentHash: string };

export class FileSync {
  readonly counts: SyncCounts = {
    kept: 0,
    edited: 0,
    deleted: 0,
    removed: 0,
    repeated: 0,
    conflicts: [],
  };
  /** Pieces of the file as it is now: hash -> fragment. */
  private readonly current = new Map<string, string>();
  private finished = false;
  /** Whether the memory took in other processes' writes since this file was opened. */
  private refreshed = false;

  private constructor(
    private readonly target: IngestTarget,
    private readonly hashing: Hashing,
    readonly namespace: string,
    private readonly file: FileState,
    /** Pieces recorded before this run (and adopted ones): hash -> fragment. */
    private readonly known: Map<string, string>,
    /** Whether the index has a record of the file; written with the first batch when not. */
    private recorded: boolean,
    /** Pieces to record with the first batch: edited fragments from before the index. */
    private pending: SourcePiece[],
    /**
     * Fragments ingested from the file before the source index existed (none once it is
     * recorded): those no piece of the file claims are removed when it is done.
     */
    private readonly legacy: readonly string[],
  ) {}

  /**
   * Loads what the index holds of the file. A file new to the index may have been
   * ingested before it existed (`legacy`): its fragments the user edited are taken as
   * pieces of the text they were ingested with, so that the file's text does not come back
   * beside the edit.
   */
  static async open(
    target: IngestTarget,
    hashing: Hashing,
    namespace: string,
    file: FileState,
    legacy: LegacyIndex,
  ): Promise<FileSync> {
    const { sources } = target.data;
    const recorded = (await sources.get(namespace, file.path)) !== undefined;
    const known = new Map<string, string>();
    const pending: SourcePiece[] = [];
    const before = recorded ? [] : await legacy(file.path);
    for (const id of before) {
      const f = await target.memory.get(id);
      if (!f || f.namespace !== namespace) continue;
      const first = (await target.memory.history(id))[0];
      if (first === undefined || first.text === f.text) continue;
      const pieceHash = hashing.hashSync(first.text);
      if (known.has(pieceHash)) continue;
      known.set(pieceHash, id);
      pending.push({ namespace, path: file.path, pieceHash, fragmentId: id });
    }
    for (const p of await sources.pieces(namespace, file.path)) {
      known.set(p.pieceHash, p.fragmentId);
    }
    return new FileSync(target, hashing, namespace, file, known, recorded, pending, before);
  }

  get path(): string {
    return this.file.path;
  }

  /**
   * The fragment a known piece became. The source index is read from the database, the
   * memory's records from what it has taken in: a fragment another process stored since
   * (two ingests of one folder at once) is missing from the memory until it looks again,
   * and would be taken for one the user deleted. So a missing one is looked for again
   * after a refresh (once per file: a refresh takes in every change so far).
   */
  private async fragment(id: string): Promise<Fragment | undefined> {
    const f = await this.target.memory.get(id);
    if (f || this.refreshed) return f;
    this.refreshed = true;
    await this.target.memory.refresh();
    return this.target.memory.get(id);
  }

  private piece(pieceHash: string, fragmentId: string): SourcePiece {
    return { namespace: this.namespace, path: this.path, pieceHash, fragmentId };
  }

  /**
   * Stores a batch of the file's chunks in one transaction: new pieces are added to the
   * memory and recorded, known ones kept (their line and offset brought up to date when
   * only those moved). With `last`, the file is finished in the same transaction (see
   * `finish`). Returns CARMA's result for each chunk it added.
   */
  async store(batch: readonly Chunk[], last = false): Promise<AddResult[]> {
    const { memory } = this.target;
    const fresh: Array<{ chunk: Chunk; hash: string }> = [];
    const freshHashes = new Set<string>();
    const moved: Array<{ id: string; metadata: Metadata }> = [];
    for (const chunk of batch) {
      const hash = this.hashing.hashSync(chunk.text);
      if (this.current.has(hash) || freshHashes.has(hash)) {
        this.counts.repeated++; // the same text twice in the file: one fragment
        continue;
      }
      const id = this.known.get(hash);
      if (id === undefined) {
        fresh.push({ chunk, hash });
        freshHashes.add(hash);
        continue;
      }
      this.current.set(hash, id);
      const f = await this.fragment(id);
      const state = stateOf(f, hash);
      if (state === 'gone') this.counts.deleted++;
      else if (state === 'edited') this.counts.edited++;
      else {
        this.counts.kept++;
        const meta = (f as Fragment).metadata;
        // Its place: its line and offset, and what else says where it is (a book's chapter).
        const place = { ...chunk.meta, line: chunk.line, offset: chunk.offset };
        if (
          sourceOf(f as Fragment) === this.path &&
          Object.entries(place).some(([key, value]) => meta[key] !== value)
        ) {
          moved.push({ id, metadata: { ...meta, ...place } });
        }
      }
    }
    if (fresh.length === 0 && moved.length === 0 && !last) return [];
    const places = last ? await this.placesOfLeaving() : new Map<string, Place>();
    return this.write(async () => {
      const added =
        fresh.length === 0
          ? []
          : await memory.addMany(
              fresh.map(({ chunk: c }) => ({
                text: c.text,
                namespace: this.namespace,
                metadata: {
                  ...c.meta,
                  source: c.source,
                  offset: c.offset,
                  line: c.line,
                  kind: c.kind,
                },
              })),
            );
      for (const m of moved) await memory.update(m.id, { metadata: m.metadata });
      await this.adoptRenamed(added, fresh);
      const pieces = added.map((a, i) =>
        this.piece((fresh[i] as { hash: string }).hash, a.fragment.id),
      );
      await this.target.data.sources.putPieces(pieces);
      for (const p of pieces) this.current.set(p.pieceHash, p.fragmentId);
      if (last) await this.finishInside(places);
      return added;
    });
  }

  /** Finishes a file no batch finished (one without chunks). */
  async finish(): Promise<void> {
    if (this.finished) return;
    const places = await this.placesOfLeaving();
    await this.write(() => this.finishInside(places));
  }

  /**
   * One transaction; the first of the file also records it (as not yet complete) and the
   * pieces `open` adopted, so that no piece is ever recorded without its file.
   */
  private async write<T>(fn: () => Promise<T>): Promise<T> {
    const { sources } = this.target.data;
    const result = await atomically(this.target, async () => {
      if (!this.recorded) {
        await sources.put({
          namespace: this.namespace,
          path: this.path,
          contentHash: null,
          size: this.file.size,
          modifiedAt: this.file.modifiedAt,
          ingestedAt: Date.now(),
        });
      }
      await sources.putPieces(this.pending);
      return fn();
    });
    this.recorded = true;
    this.pending = [];
    return result;
  }

  /**
   * Once every chunk was stored: removes the pieces the file no longer has, with their
   * fragments unless another file has them too, or the user edited them (a conflict, kept),
   * removes what was ingested from the file before the index and nothing claims, and
   * records the file as ingested completely. Runs inside the last batch's transaction.
   */
  private async finishInside(places: ReadonlyMap<string, Place>): Promise<void> {
    const { memory, data } = this.target;
    const inFile = new Set(this.current.values());
    const drop: SourcePiece[] = [];
    const remove: SourcePiece[] = [];
    for (const [hash, id] of this.known) {
      if (this.current.has(hash)) continue;
      const f = await memory.get(id);
      const state = stateOf(f, hash);
      // Deleted by the user, or now another piece of the file (an edit that became the
      // file's text): the record of this piece is no longer needed.
      if (state === 'gone' || inFile.has(id)) drop.push(this.piece(hash, id));
      else if (state === 'same') remove.push(this.piece(hash, id));
      else await this.conflict(f as Fragment);
    }
    const claimed = new Set(this.known.values());
    for (const id of this.legacy) {
      const f = await memory.get(id);
      if (f && f.namespace === this.namespace && !inFile.has(id) && !claimed.has(id)) {
        remove.push(this.piece(f.contentHash, id));
      }
    }
    await this.removeStale(remove, places);
    await data.sources.removePieces([...remove, ...drop]);
    await data.sources.put({
      namespace: this.namespace,
      path: this.path,
      contentHash: this.file.contentHash,
      size: this.file.size,
      modifiedAt: this.file.modifiedAt,
      ingestedAt: Date.now(),
    });
    this.finished = true;
  }

  /** Reports an edited fragment whose piece is gone; its record stays, so forget still takes it. */
  private async conflict(f: Fragment): Promise<void> {
    const first = (await this.target.memory.history(f.id))[0];
    this.counts.conflicts.push({
      id: f.id,
      namespace: this.namespace,
      path: this.path,
      line: typeof f.metadata.line === 'number' ? f.metadata.line : null,
      text: f.text,
      ingested: first?.text ?? '',
    });
  }

  /**
   * A piece already in memory as a fragment of a file that is gone (the file was renamed or
   * moved here) becomes this file's now, with its place in it: once the old path is pruned
   * it would become this file's anyway, but no longer knowing its line.
   */
  private async adoptRenamed(
    added: AddResult[],
    fresh: ReadonlyArray<{ chunk: Chunk }>,
  ): Promise<void> {
    for (const [i, a] of added.entries()) {
      if (a.status !== 'duplicate') continue;
      const from = sourceOf(a.fragment);
      if (from === undefined || from === this.path || existsSync(from)) continue;
      const { chunk: c } = fresh[i] as { chunk: Chunk };
      await this.target.memory.update(a.fragment.id, {
        metadata: { ...a.fragment.metadata, source: c.source, offset: c.offset, line: c.line },
      });
    }
  }

  /**
   * The other files that hold pieces of `fragmentIds` this file held: by fragment, the
   * file it would become.
   */
  private async heldElsewhere(fragmentIds: readonly string[]): Promise<Map<string, string>> {
    const elsewhere = new Map<string, string>();
    if (fragmentIds.length === 0) return elsewhere;
    for (const p of await this.target.data.sources.piecesOf(fragmentIds)) {
      if (p.path !== this.path || p.namespace !== this.namespace) {
        elsewhere.set(p.fragmentId, p.path);
      }
    }
    return elsewhere;
  }

  /**
   * Where the pieces this file no longer has are in the other files that hold them, read
   * before the transaction that finishes the file: reading files there would hold the
   * store's write lock for as long as they take.
   */
  private async placesOfLeaving(): Promise<Map<string, Place>> {
    const leaving = [...this.known].filter(([hash]) => !this.current.has(hash)).map(([, id]) => id);
    const elsewhere = await this.heldElsewhere([...leaving, ...this.legacy]);
    return placesOf(
      this.target.data.sources,
      this.hashing,
      [...elsewhere].map(([id, source]) => ({ id, source })),
    );
  }

  /**
   * Deletes the fragments of pieces the file no longer has, except one another file also
   * has (it becomes that file's, at its place there in `places`) or one that did not come
   * from this file (the user's own, which the file repeated).
   */
  private async removeStale(
    remove: SourcePiece[],
    places: ReadonlyMap<string, Place>,
  ): Promise<void> {
    if (remove.length === 0) return;
    const { memory } = this.target;
    const elsewhere = await this.heldElsewhere(remove.map((r) => r.fragmentId));
    for (const p of remove) {
      const f = await memory.get(p.fragmentId);
      if (!f || sourceOf(f) !== this.path) continue;
      const other = elsewhere.get(p.fragmentId);
      if (other === undefined) {
        await memory.delete(p.fragmentId);
        this.counts.removed++;
      } else {
        // It is that file's now, cited at its place there when the file has it still.
        const { line: _line, offset: _offset, ...rest } = f.metadata;
        await memory.update(p.fragmentId, {
          metadata: { ...rest, source: other, ...places.get(p.fragmentId) },
        });
      }
    }
  }
}
