/**
 * The index file format both implementations read and write (the layout is described in
 * crates/carma/src/vector/file.rs): a header starting with `MAGIC` and the format version,
 * the rows, since version 3 optionally their codes (the native implementation writes them
 * and takes them on load; this one skips them and writes none), the graph (since version 4
 * its layer 0 laid out as searches walk it, a fixed-size record per node), `END`, and
 * since version 2 the BLAKE3 checksum of every byte before it. Versions 1 to 3 are still
 * read.
 */

export const MAGIC = 'CARMAVI1';
export const END = 'CARMAEND';
/** The version `save` writes. */
export const FORMAT_VERSION = 4;
/** Header flags: the file holds the graph; the file holds the row codes. */
export const GRAPH_FLAG = 1;
export const CODES_FLAG = 2;
/** Bytes of a row's bounds beside its codes (scale, err, norm: `f32` each). */
export const ROW_BOUND_BYTES = 12;
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
