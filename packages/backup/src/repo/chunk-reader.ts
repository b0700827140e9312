import type { BlobLocation, ItemResult } from '../engine/types.js';
import type { ChunkLocation } from './chunk-index.js';
import { storageError } from './errors.js';
import { packPath } from './pack.js';
import { PackHandles } from './pack-handles.js';
import type { PackStore } from './stores.js';

/** Stored chunks read by id, each decoded and checked against its id. */
export interface ChunkSource {
  /** The chunks, in the order of `ids`; one that cannot be read or decoded is an error item. */
  readChunks(ids: string[]): Promise<Array<ItemResult<Uint8Array>>>;
  /** A chunk's length before compression; undefined when no index has it. */
  rawLength(id: string): number | undefined;
  /** Closes the pack files it opened (after the reads under way). */
  close(): Promise<void>;
  /**
   * Restores whole files, when the engine can (each from the first copy of its chunks; a
   * failed file's temp file is removed, and the caller reads it the chunk-by-chunk way,
   * which falls back to other copies). The value is the bytes written.
   */
  restoreFiles?(items: FileToRestore[]): Promise<Array<ItemResult<number>>>;
}

/** A file to restore at `tmp`, then renamed to `target`. */
export interface FileToRestore {
  tmp: string;
  target: string;
  mode: number;
  mtimeMs: number;
  chunks: string[];
}

/** Reads chunks from a repository's packs at the locations its indexes give. */
export class PackChunkReader implements ChunkSource {
  private readonly handles: PackHandles;

  constructor(
    private readonly store: PackStore,
    private readonly chunks: Map<string, ChunkLocation>,
  ) {
    this.handles = new PackHandles(store.path);
    const restore = store.engine.restoreFiles?.bind(store.engine);
    if (restore) this.restoreFiles = (items) => this.restoreWith(restore, items);
  }

  private async restoreWith(
    restore: NonNullable<PackStore['engine']['restoreFiles']>,
    items: FileToRestore[],
  ): Promise<Array<ItemResult<number>>> {
    const out: Array<ItemResult<number>> = items.map((item) => ({
      ok: false,
      code: 'CHUNK_MISSING',
      message: `${item.target}: a chunk is in no index`,
    }));
    const known: number[] = [];
    const requests = [];
    for (const [i, item] of items.entries()) {
      const chunks: BlobLocation[] = [];
      for (const id of item.chunks) {
        const loc = this.chunks.get(id);
        if (!loc) break;
        const { offset, length, rawLength } = loc;
        chunks.push({ pack: packPath(this.store.path, loc.pack), offset, length, rawLength, id });
      }
      if (chunks.length < item.chunks.length) continue;
      known.push(i);
      requests.push({ ...item, chunks });
    }
    const done = requests.length > 0 ? await restore(requests) : [];
    for (const [k, r] of done.entries()) out[known[k] as number] = r;
    return out;
  }

  readonly restoreFiles?: (items: FileToRestore[]) => Promise<Array<ItemResult<number>>>;

  rawLength(id: string): number | undefined {
    return this.chunks.get(id)?.rawLength;
  }

  close(): Promise<void> {
    return this.handles.close();
  }

  /**
   * Reads blobs from packs and decodes them (checked against their ids), in order. A copy
   * that cannot be read or decoded is replaced by the chunk's next copy, when it has one.
   */
  async readChunks(ids: string[]): Promise<Array<ItemResult<Uint8Array>>> {
    const out: Array<ItemResult<Uint8Array>> = ids.map((id) => ({
      ok: false,
      code: 'CHUNK_MISSING',
      message: `chunk ${id} is in no index`,
    }));
    let tries: Array<{ i: number; loc: ChunkLocation | undefined }> = ids.map((id, i) => ({
      i,
      loc: this.chunks.get(id),
    }));
    while (tries.length > 0) {
      const next: typeof tries = [];
      const requests: Array<{ i: number; loc: ChunkLocation; data: Uint8Array }> = [];
      for (const { i, loc } of tries) {
        if (!loc) continue;
        try {
          requests.push({
            i,
            loc,
            data: await this.handles.read(loc.pack, loc.offset, loc.length),
          });
        } catch (error) {
          const e = storageError(error, packPath(this.store.path, loc.pack));
          const missing = e.code === 'IO_NOT_FOUND';
          out[i] = {
            ok: false,
            code: missing ? 'CHUNK_MISSING' : e.code,
            message: `chunk ${loc.id}: ${missing ? `pack ${loc.pack} is missing` : e.message}`,
          };
          if (loc.next) next.push({ i, loc: loc.next });
        }
      }
      const decoded = await this.store.engine.decodeBlobs(
        requests.map((r) => ({ data: r.data, id: r.loc.id, rawLength: r.loc.rawLength })),
      );
      for (const [k, result] of decoded.entries()) {
        const r = requests[k] as (typeof requests)[number];
        out[r.i] = result;
        if (!result.ok && r.loc.next) next.push({ i: r.i, loc: r.loc.next });
      }
      tries = next;
    }
    return out;
  }
}
