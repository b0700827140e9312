import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ContentHasher, fsyncDir } from '@aios/utils';
import {
  FORMAT_VERSION,
  type IndexBlob,
  type IndexFile,
  PACK_HEADER_SIZE,
  PACK_MAGIC,
} from '../format.js';
import { randomHex } from './fsutil.js';
import { recordPackCheck } from './pack-checks.js';

export function packPath(repo: string, packId: string): string {
  return join(repo, 'data', packId.slice(0, 2), packId);
}

export function indexPath(repo: string, packId: string): string {
  return join(repo, 'index', `${packId}.json`);
}

export function packHeader(): Uint8Array {
  const header = Buffer.alloc(PACK_HEADER_SIZE);
  header.write(PACK_MAGIC, 0, 'latin1');
  header.writeUInt32LE(FORMAT_VERSION, 8);
  return header;
}

/** Blobs are written to the pack file in runs of about this many bytes (one writev). */
const WRITE_BYTES = 8 * 1024 * 1024;
/**
 * `add` returns while the writes of up to this many bytes are still running: a write
 * that waits for the disk (dirty-page throttling) then holds the next chunk's bytes only,
 * not the caller, which goes on chunking and compressing meanwhile.
 */
const BEHIND_BYTES = 32 * 1024 * 1024;

/** A pack whose bytes are all written: its index, and the promise that makes it durable. */
export interface SealedPack {
  index: IndexFile;
  durable: Promise<void>;
}

/**
 * Appends blobs to a temp pack file, in large sequential writes. `finish()` makes it
 * durable in this order: pack data fsynced, renamed to `data/<xx>/<packId>` (packId =
 * BLAKE3 of the whole file), directory fsynced, then its index written atomically, then
 * its check record (see pack-checks.ts). `seal()` starts the same steps and returns at
 * once, so the next pack is filled while this one reaches the disk. A crash before the
 * index leaves an unindexed pack, which nothing references and `prune` removes.
 */
export class PackWriter {
  private handle: Awaited<ReturnType<typeof open>> | undefined;
  private tmp = '';
  private blobs: IndexBlob[] = [];
  private position = 0;
  private readonly ids = new Set<string>();
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  private written = 0;
  /** Writes under way, oldest first; each starts when the one before it is done. */
  private writes: Array<{ done: Promise<void>; bytes: number }> = [];
  private writesBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private unpublished: Array<{ tmp: string; target: string }> = [];

  constructor(
    private readonly repo: string,
    private readonly hasher: ContentHasher,
    /** Starts the write-back of what was just written (see `Engine.startWriteback`). */
    private readonly writeback?: (fd: number, offset: number, length: number) => void,
  ) {}

  get size(): number {
    return this.position;
  }
  get count(): number {
    return this.blobs.length;
  }
  has(id: string): boolean {
    return this.ids.has(id);
  }

  async add(id: string, data: Uint8Array, rawLength: number): Promise<void> {
    if (!this.handle) {
      this.tmp = join(this.repo, 'tmp', `${randomHex()}.pack`);
      this.handle = await open(this.tmp, 'wx');
      const header = packHeader();
      this.hasher.reset();
      this.hasher.update(header);
      this.queued.push(header);
      this.queuedBytes = header.length;
      this.written = 0;
      this.position = header.length;
    }
    this.hasher.update(data);
    this.queued.push(data);
    this.queuedBytes += data.length;
    this.blobs.push({ id, offset: this.position, length: data.length, rawLength });
    this.ids.add(id);
    this.position += data.length;
    if (this.queuedBytes >= WRITE_BYTES) {
      this.flush();
      await this.settle(BEHIND_BYTES);
    }
  }

  /**
   * Waits until every blob added so far is written to the pack file (not durable: see
   * `seal`), so that the caller may reuse their buffers.
   */
  async drain(): Promise<void> {
    this.flush();
    await this.settle(0);
  }

  /** Starts writing the queued blobs after the writes under way. */
  private flush(): void {
    const handle = this.handle;
    if (!handle || this.queued.length === 0) return;
    const buffers = this.queued;
    const bytes = this.queuedBytes;
    const at = this.written;
    this.queued = [];
    this.queuedBytes = 0;
    this.written += bytes;
    // After a failed write the next ones fail with its error, without writing.
    const before = this.writes.at(-1)?.done ?? Promise.resolve();
    const done = before.then(() => this.writeOut(handle, buffers, at, bytes));
    done.catch(() => undefined); // awaited by settle(); never an unhandled rejection
    this.writes.push({ done, bytes });
    this.writesBytes += bytes;
  }

  /** Waits until at most `limit` bytes are still being written; throws a write's error. */
  private async settle(limit: number): Promise<void> {
    while (this.writesBytes > limit) {
      const write = this.writes.shift();
      if (!write) break;
      this.writesBytes -= write.bytes;
      await write.done;
    }
  }

  private async writeOut(
    handle: Awaited<ReturnType<typeof open>>,
    buffers: Uint8Array[],
    start: number,
    bytes: number,
  ): Promise<void> {
    let at = start;
    // writev takes at most IOV_MAX (1024) buffers per call; a short write is completed
    // buffer by buffer (a full disk then fails with its error).
    for (let i = 0; i < buffers.length; i += 1024) {
      const part = buffers.slice(i, i + 1024);
      let skip = (await handle.writev(part, at)).bytesWritten;
      for (const b of part) {
        if (skip < b.length) await writeAll(handle, b.subarray(skip), at + skip);
        skip = Math.max(0, skip - b.length);
        at += b.length;
      }
    }
    // The disk starts on these bytes now, while the pack fills: its fsync waits for little.
    try {
      this.writeback?.(handle.fd, start, bytes);
    } catch {
      // only a hint: the fsync still makes the pack durable
    }
  }

  /**
   * Writes out the pack's bytes and starts making it durable (see the class); returns its
   * index at once, or undefined when nothing was added.
   */
  async seal(): Promise<SealedPack | undefined> {
    const handle = this.handle;
    if (!handle) return undefined;
    try {
      this.flush();
      await this.settle(0);
    } catch (error) {
      await this.abandon();
      throw error;
    }
    this.handle = undefined;
    const packId = this.hasher.digest();
    const tmp = this.tmp;
    const index: IndexFile = {
      version: FORMAT_VERSION,
      pack: packId,
      size: this.position,
      blobs: this.blobs,
    };
    this.blobs = [];
    this.ids.clear();
    this.position = 0;
    const durable = this.makeDurable(handle, tmp, index);
    durable.catch(() => undefined); // awaited by the caller; never an unhandled rejection
    this.inFlight.add(durable);
    void durable.finally(() => this.inFlight.delete(durable)).catch(() => undefined);
    return { index, durable };
  }

  private async makeDurable(
    handle: Awaited<ReturnType<typeof open>>,
    tmp: string,
    index: IndexFile,
  ): Promise<void> {
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const packId = index.pack;
    const target = packPath(this.repo, packId);
    await mkdir(join(this.repo, 'data', packId.slice(0, 2)), { recursive: true });
    await rename(tmp, target);
    await fsyncDir(join(this.repo, 'data', packId.slice(0, 2)));
    // The index waits in tmp/ (unsynced) until `publishIndexes()`: one fsync per index file
    // and one of index/ for all the packs of a backup, instead of two per pack.
    const waiting = join(this.repo, 'tmp', `${randomHex()}.index`);
    await writeFile(waiting, JSON.stringify(index), { flag: 'wx' });
    this.unpublished.push({ tmp: waiting, target: indexPath(this.repo, packId) });
    // Its bytes are known: a later backup may reuse its chunks without reading them back.
    // A cache: not synced (a record lost in a crash only costs a re-read of the pack).
    await recordPackCheck(this.repo, packId, await stat(target, { bigint: true }), [], {
      durable: false,
    });
  }

  /**
   * Makes the indexes of the packs made durable so far durable and visible: each fsynced
   * in tmp/, renamed into index/, and index/ fsynced once. Until then a crash leaves
   * complete packs without an index, which no snapshot uses (prune removes them).
   */
  async publishIndexes(): Promise<void> {
    const list = this.unpublished;
    this.unpublished = [];
    if (list.length === 0) return;
    await Promise.all(
      list.map(async ({ tmp }) => {
        const handle = await open(tmp, 'r+');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    );
    await mkdir(join(this.repo, 'index'), { recursive: true });
    for (const { tmp, target } of list) await rename(tmp, target);
    await fsyncDir(join(this.repo, 'index'));
  }

  /** Writes the pack and its index durably; undefined when nothing was added. */
  async finish(): Promise<IndexFile | undefined> {
    const sealed = await this.seal();
    if (!sealed) return undefined;
    await sealed.durable;
    await this.publishIndexes();
    return sealed.index;
  }

  /**
   * Drops an unfinished pack (cancellation), once the sealed ones have finished (nothing
   * is written to the repository after the caller lets go of its lock).
   */
  async abandon(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    const writes = this.writes;
    this.writes = [];
    this.writesBytes = 0;
    await Promise.allSettled(writes.map((w) => w.done));
    if (!this.handle) return;
    await this.handle.close().catch(() => undefined);
    this.handle = undefined;
    this.queued = [];
    this.queuedBytes = 0;
    await rm(this.tmp, { force: true });
  }
}

async function writeAll(
  handle: Awaited<ReturnType<typeof open>>,
  data: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}
