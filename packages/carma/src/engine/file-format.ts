/**
 * The index file format both implementations read and write (the layout is described in
 * crates/carma/src/vector/file.rs): a header starting with `MAGIC` and the format version,
 * the rows and graph, `END`, and since version 2 the BLAKE3 checksum of every byte
 * before it. Version 1 files (no checksum) are still read.
 */

export const MAGIC = 'CARMAVI1';
export const END = 'CARMAEND';
/** The version `save` writes. */
export const FORMAT_VERSION = 2;
/** Bytes of the trailing BLAKE3 checksum. */
export const CHECKSUM_BYTES = 32;
/** Magic and version. */
export const HEADER_PREFIX_BYTES = 12;

/** How much longer than unit length a stored cosine row may be (see vector/file.rs). */
export function unitSlack(dim: number): number {
  return 1e-3 + dim / 2 ** 23;
}

/** The temporary name `save` writes `path` under before renaming it. */
export function tempPath(path: string, pid = process.pid): string {
  return `${path}.tmp-${pid}`;
}
