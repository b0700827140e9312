import { AiosError, invalidInput } from '@aios/utils';
import ignore from 'ignore';
import type { Entry } from './format.js';
import type { ChunkSource } from './repo/chunk-reader.js';

// Reading a snapshot's files back out of a chunk source: shared by restore and tar export.

/** A file's chunks are read (and decoded) this many bytes at a time. */
export const READ_BATCH_BYTES = 32 * 1024 * 1024;

export type Decoded = Awaited<ReturnType<ChunkSource['readChunks']>>[number];

/** The entries `include` selects, plus the directories above them. */
export function select(entries: readonly Entry[], include: string[] | undefined): Entry[] {
  if (include === undefined) return [...entries];
  if (!Array.isArray(include) || !include.every((p) => typeof p === 'string')) {
    throw invalidInput('options.include', include, 'an array of gitignore-style patterns');
  }
  const matcher = ignore().add(include);
  const chosen = new Set<string>();
  for (const e of entries) {
    if (matcher.ignores(e.type === 'dir' ? `${e.path}/` : e.path)) {
      chosen.add(e.path);
      const parts = e.path.split('/');
      for (let i = 1; i < parts.length; i++) chosen.add(parts.slice(0, i).join('/'));
    }
  }
  return entries.filter((e) => chosen.has(e.path));
}

export function mtimeOf(e: Entry): Date {
  return new Date(Number(BigInt(e.mtimeNs) / 1_000_000n));
}

/** Yields the decoded chunks of a file in order, reading a bounded batch at a time. */
export async function* fileChunks(
  source: ChunkSource,
  entry: Entry,
  prefetched?: Map<string, Decoded>,
): AsyncGenerator<Uint8Array> {
  const ids = entry.chunks ?? [];
  if (prefetched && ids.every((id) => prefetched.has(id))) {
    for (const id of ids) {
      const r = prefetched.get(id) as Decoded;
      if (!r.ok)
        throw new AiosError(r.code, `${entry.path}: ${r.message}`, {
          details: { path: entry.path },
        });
      yield r.value;
    }
    return;
  }
  const batches: string[][] = [];
  let i = 0;
  while (i < ids.length) {
    const batch: string[] = [];
    let bytes = 0;
    while (i < ids.length && (batch.length === 0 || bytes < READ_BATCH_BYTES)) {
      const id = ids[i++] as string;
      batch.push(id);
      bytes += source.rawLength(id) ?? 0;
    }
    batches.push(batch);
  }
  // The next batch is read and decoded while the current one is consumed.
  const start = (b: number) => {
    const p = source.readChunks(batches[b] as string[]);
    p.catch(() => undefined); // consumed below; never an unhandled rejection
    return p;
  };
  let next = batches.length > 0 ? start(0) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const current = await (next as ReturnType<typeof start>);
    next = b + 1 < batches.length ? start(b + 1) : undefined;
    for (const r of current) {
      if (!r.ok)
        throw new AiosError(r.code, `${entry.path}: ${r.message}`, {
          details: { path: entry.path },
        });
      yield r.value;
    }
  }
}
