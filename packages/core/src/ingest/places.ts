/**
 * Where pieces of text are in a file as it is on disk: for a fragment another file also
 * holds, which becomes that file's when the file it was cited from is forgotten, so that it
 * goes on being cited at its line in the file that still holds it.
 */
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Metadata } from '@aios/carma';
import type { SourceRepository } from '@aios/data';
import type { Hashing } from '@aios/utils';
import { openChunks } from './file-chunks.js';
import { kindOf } from './files.js';

/** Where a piece is in its file: the provenance ingest gives a fragment of it. */
export type Place = Metadata & { line: number; offset: number; kind: string };

/**
 * The place of each piece of `wanted` (hashes of its text, as the source index records
 * them) in the file at `path`: the first chunk with that text. Empty when the file cannot
 * be read now (gone, damaged, or a name the file was recorded under rather than a path on
 * this machine, as an upload's); pieces it no longer has are left out.
 */
export async function placesIn(
  path: string,
  wanted: ReadonlySet<string>,
  hashing: Hashing,
): Promise<Map<string, Place>> {
  const places = new Map<string, Place>();
  if (wanted.size === 0 || !isAbsolute(path) || !existsSync(path)) return places;
  try {
    const { chunks } = await openChunks({ path, kind: kindOf(path), source: path });
    for (let next = chunks.next(); !next.done && places.size < wanted.size; next = chunks.next()) {
      const c = next.value;
      const hash = hashing.hashSync(c.text);
      if (!wanted.has(hash) || places.has(hash)) continue;
      places.set(hash, { ...c.meta, line: c.line, offset: c.offset, kind: c.kind });
    }
  } catch {
    // Unreadable now: the fragment stays that file's, without a place in it.
  }
  return places;
}

/**
 * The place of each fragment of `fragments` in the file it becomes (`source`), by fragment
 * id: the piece the source index records of it for that file, found in the file as it is
 * now (each file read once). Those not found are left out.
 */
export async function placesOf(
  sources: Pick<SourceRepository, 'piecesOf'>,
  hashing: Hashing,
  fragments: ReadonlyArray<{ id: string; source: string }>,
): Promise<Map<string, Place>> {
  const out = new Map<string, Place>();
  if (fragments.length === 0) return out;
  const wanted = new Map(fragments.map((f) => [f.id, f.source]));
  /** By file: each piece's hash, with the fragments it became. */
  const byFile = new Map<string, Map<string, string[]>>();
  for (const p of await sources.piecesOf([...wanted.keys()])) {
    if (wanted.get(p.fragmentId) !== p.path) continue;
    const pieces = byFile.get(p.path) ?? new Map<string, string[]>();
    pieces.set(p.pieceHash, [...(pieces.get(p.pieceHash) ?? []), p.fragmentId]);
    byFile.set(p.path, pieces);
  }
  for (const [path, pieces] of byFile) {
    for (const [hash, place] of await placesIn(path, new Set(pieces.keys()), hashing)) {
      for (const id of pieces.get(hash) ?? []) out.set(id, place);
    }
  }
  return out;
}
