import { open } from 'node:fs/promises';
import { AiosError } from '@aios/utils';
import { packPath } from './pack.js';

/** Open pack files, read by range. */
export class PackHandles {
  private readonly open = new Map<string, Promise<Awaited<ReturnType<typeof open>>>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  constructor(private readonly repo: string) {}

  async read(pack: string, offset: number, length: number): Promise<Buffer> {
    let pending = this.open.get(pack);
    if (!pending) {
      if (this.open.size >= 32) await this.close();
      pending = open(packPath(this.repo, pack), 'r');
      pending.catch(() => undefined);
      this.open.set(pack, pending);
    }
    const work = this.readFrom(await pending, pack, offset, length);
    this.inFlight.add(work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async readFrom(
    handle: Awaited<ReturnType<typeof open>>,
    pack: string,
    offset: number,
    length: number,
  ): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buf, filled, length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled < length) {
      // The chunk's bytes are not there (a truncated copy, a full disk): the chunk is
      // missing from this pack, which is no I/O failure of the disk.
      throw new AiosError(
        'CHUNK_MISSING',
        `pack ${pack} is truncated: it ends before the ${length} bytes at offset ${offset}`,
        { details: { pack, offset, length } },
      );
    }
    return buf;
  }

  async close(): Promise<void> {
    // Let reads already running on these handles finish first.
    await Promise.allSettled([...this.inFlight]);
    const handles = [...this.open.values()];
    this.open.clear();
    await Promise.all(handles.map((p) => p.then((h) => h.close()).catch(() => undefined)));
  }
}
