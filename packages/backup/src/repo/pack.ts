import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ContentHasher, fsyncDir } from '@aios/utils';
import {
  FORMAT_VERSION,
  type IndexBlob,
  type IndexFile,
  PACK_HEADER_SIZE,
  PACK_MAGIC,
} from '../format.js';
import { atomicWrite, randomHex } from './fsutil.js';
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

/**
 * Appends blobs to a temp pack file. `finish()` makes it durable in this order: pack data
 * fsynced, renamed to `data/<xx>/<packId>` (packId = BLAKE3 of the whole file), directory
 * fsynced, then its index written atomically, then its check record (see pack-checks.ts).
 * A crash before the index leaves an unindexed pack, which nothing references and `prune`
 * removes.
 */
export class PackWriter {
  private handle: Awaited<ReturnType<typeof open>> | undefined;
  private tmp = '';
  private blobs: IndexBlob[] = [];
  private position = 0;
  private readonly ids = new Set<string>();

  constructor(
    private readonly repo: string,
    private readonly hasher: ContentHasher,
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
      await this.handle.write(header);
      this.position = header.length;
    }
    await this.handle.write(data, 0, data.length, this.position);
    this.hasher.update(data);
    this.blobs.push({ id, offset: this.position, length: data.length, rawLength });
    this.ids.add(id);
    this.position += data.length;
  }

  /** Writes the pack and its index durably; undefined when nothing was added. */
  async finish(): Promise<IndexFile | undefined> {
    const handle = this.handle;
    if (!handle) return undefined;
    await handle.sync();
    await handle.close();
    this.handle = undefined;
    const packId = this.hasher.digest();
    const target = packPath(this.repo, packId);
    await mkdir(join(this.repo, 'data', packId.slice(0, 2)), { recursive: true });
    await rename(this.tmp, target);
    await fsyncDir(join(this.repo, 'data', packId.slice(0, 2)));
    const index: IndexFile = {
      version: FORMAT_VERSION,
      pack: packId,
      size: this.position,
      blobs: this.blobs,
    };
    await atomicWrite(join(this.repo, 'tmp'), indexPath(this.repo, packId), JSON.stringify(index));
    // Its bytes are known: a later backup may reuse its chunks without reading them back.
    await recordPackCheck(this.repo, packId, await stat(target, { bigint: true }), []);
    this.blobs = [];
    this.ids.clear();
    this.position = 0;
    return index;
  }

  /** Drops an unfinished pack (cancellation). */
  async abandon(): Promise<void> {
    if (!this.handle) return;
    await this.handle.close().catch(() => undefined);
    this.handle = undefined;
    await rm(this.tmp, { force: true });
  }
}
