import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { pack as tarPack } from 'tar-stream';
import { assertSafeTree, type SnapshotFile } from './format.js';
import type { ChunkSource } from './repo/chunk-reader.js';
import { fileChunks, mtimeOf, select } from './snapshot-read.js';

type Sink = ReturnType<ReturnType<typeof tarPack>['entry']>;

// tar-stream and its streams are loaded by an export, not by everything that opens a backup.
const require = createRequire(import.meta.url);
let tarStream: typeof import('tar-stream') | undefined;

export interface ExportOptions {
  include?: string[];
}

/**
 * A tar stream (pax/ustar) of the snapshot; paths are checked like a restore's. `source`
 * is closed once the archive is written or has failed.
 */
export function exportTar(
  source: ChunkSource,
  snap: SnapshotFile & { id: string },
  options: ExportOptions,
): NodeJS.ReadableStream {
  assertSafeTree(snap.entries, snap.id);
  const entries = select(snap.entries, options.include);
  tarStream ??= require('tar-stream') as typeof import('tar-stream');
  const pack = tarStream.pack();
  // A destroyed entry (the consumer went away) ends the wait too: its callback reports why.
  // Whichever of the two fires removes the other: a large file waits for many drains, and
  // a 'close' listener left behind by each would pile up on the entry.
  const write = (stream: Sink, data: Uint8Array) =>
    new Promise<void>((ok) => {
      if (stream.destroyed || stream.write(data)) return ok();
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        ok();
      };
      stream.once('drain', done);
      stream.once('close', done);
    });
  (async () => {
    for (const e of entries) {
      const header = {
        name: e.path,
        mode: e.mode,
        mtime: mtimeOf(e),
        uid: e.uid,
        gid: e.gid,
      };
      if (e.type === 'dir') {
        await new Promise<void>((ok, fail) =>
          pack.entry({ ...header, type: 'directory' }, (err) => (err ? fail(err) : ok())),
        );
      } else if (e.type === 'symlink') {
        await new Promise<void>((ok, fail) =>
          pack.entry({ ...header, type: 'symlink', linkname: e.target ?? '' }, (err) =>
            err ? fail(err) : ok(),
          ),
        );
      } else {
        await new Promise<void>((ok, fail) => {
          const stream = pack.entry({ ...header, type: 'file', size: e.size }, (err) =>
            err ? fail(err) : ok(),
          );
          // When the archive is destroyed (its reader failed), the entry is destroyed with
          // the same error, which the callback above reports: it is not a second failure.
          stream.on('error', () => undefined);
          (async () => {
            for await (const data of fileChunks(source, e)) {
              if (stream.destroyed) return;
              await write(stream, data);
            }
            stream.end(undefined);
          })().catch((err: unknown) => {
            stream.destroy(err as Error);
            fail(err);
          });
        });
      }
    }
    pack.finalize();
  })()
    .catch((error: unknown) => pack.destroy(error as Error))
    .finally(() => source.close());
  return Readable.from(pack as unknown as AsyncIterable<Uint8Array>);
}
