/**
 * Test support: an index file as an earlier format version would hold it (see the
 * format in crates/carma/src/vector/file.rs).
 */
import { CHECKSUM_BYTES, CODES_FLAG, GRAPH_FLAG, ROW_BOUND_BYTES } from './file-format.js';

/**
 * The body of a version 4 file (no checksum) with its graph as version 3 lays it out: each
 * node's lists one after the other, layer 0's as long as it is.
 */
function graphAsVersion3(body: Buffer): Buffer {
  const flags = body.readUInt32LE(24);
  if (body.readUInt32LE(8) < 4) return body;
  const out = Buffer.from(body);
  out.writeUInt32LE(3, 8);
  if ((flags & GRAPH_FLAG) === 0) return out;
  const dim = body.readUInt32LE(12);
  const slots = body.readUInt32LE(20);
  const rowsEnd = 28 + 5 * slots + ((4 - (slots % 4)) % 4) + 4 * slots * dim;
  const codes =
    flags & CODES_FLAG
      ? slots * dim + ((4 - ((slots * dim) % 4)) % 4) + ROW_BOUND_BYTES * slots
      : 0;
  const graph = rowsEnd + codes;
  const stride = 2 * body.readUInt32LE(graph) + 1;
  const levelsAt = graph + 24;
  let at = levelsAt + slots + ((4 - (slots % 4)) % 4);
  const layer0 = at;
  at += 4 * slots * stride;
  const words: number[] = [];
  for (let node = 0; node < slots; node++) {
    const record = layer0 + 4 * node * stride;
    const count = body.readUInt32LE(record);
    for (let i = 0; i <= count; i++) words.push(body.readUInt32LE(record + 4 * i));
    for (let level = 1; level <= (body[levelsAt + node] as number); level++) {
      const n = body.readUInt32LE(at);
      for (let i = 0; i <= n; i++) words.push(body.readUInt32LE(at + 4 * i));
      at += 4 * (n + 1);
    }
  }
  const lists = Buffer.from(Uint32Array.from(words).buffer);
  return Buffer.concat([out.subarray(0, layer0), lists, out.subarray(at)]);
}

/** The same file in format version 3, sealed again with `hashHex` (BLAKE3, hex). */
export function version3(file: Buffer, hashHex: (body: Buffer) => string): Buffer {
  const body = graphAsVersion3(file.subarray(0, file.length - CHECKSUM_BYTES));
  return Buffer.concat([body, Buffer.from(hashHex(body), 'hex')]);
}

/** The file without its row codes, and its checksum dropped (what version 1 lacks). */
function withoutCodes(file: Buffer): Buffer {
  const body = graphAsVersion3(Buffer.from(file.subarray(0, file.length - CHECKSUM_BYTES)));
  const flags = body.readUInt32LE(24);
  if (body.readUInt32LE(8) < 3 || (flags & CODES_FLAG) === 0) return body;
  const dim = body.readUInt32LE(12);
  const slots = body.readUInt32LE(20);
  const rowsEnd = 28 + 5 * slots + ((4 - (slots % 4)) % 4) + 4 * slots * dim;
  const codes = slots * dim + ((4 - ((slots * dim) % 4)) % 4) + ROW_BOUND_BYTES * slots;
  const out = Buffer.concat([body.subarray(0, rowsEnd), body.subarray(rowsEnd + codes)]);
  out.writeUInt32LE(flags & ~CODES_FLAG, 24);
  return out;
}

/** The same file in format version 1: no codes, no checksum. */
export function version1(file: Buffer): Buffer {
  const old = withoutCodes(file);
  old.writeUInt32LE(1, 8);
  return old;
}

/**
 * A lexical file (format 2, see crates/carma/src/bm25/file.rs) as format version 1 held
 * it: terms one after another with their slots, then their frequencies; no offsets or
 * bounds. Sealed again with `hashHex` (BLAKE3 of the body, hex).
 */
export function lexicalVersion1(file: Buffer, hashHex: (body: Buffer) => string): Buffer {
  const docs = file.readUInt32LE(12);
  const terms = file.readUInt32LE(16);
  const parts: Buffer[] = [Buffer.from(file.subarray(0, 36 + 8 * docs))];
  parts[0]?.writeUInt32LE(1, 8);
  let at = 36 + 8 * docs + 4 * terms;
  for (let t = 0; t < terms; t++) {
    const [n, count] = [file.readUInt32LE(at), file.readUInt32LE(at + 4)];
    const padded = n + ((4 - (n % 4)) % 4);
    const postings = at + 16 + padded;
    const head = Buffer.alloc(4 + padded + 4);
    head.writeUInt32LE(n, 0);
    file.copy(head, 4, at + 16, at + 16 + n);
    head.writeUInt32LE(count, 4 + padded);
    const slots = Buffer.alloc(4 * count);
    const tfs = Buffer.alloc(4 * count);
    for (let i = 0; i < count; i++) {
      slots.writeUInt32LE(file.readUInt32LE(postings + 8 * i), 4 * i);
      tfs.writeUInt32LE(file.readUInt32LE(postings + 8 * i + 4), 4 * i);
    }
    parts.push(head, slots, tfs);
    at = postings + 8 * count;
  }
  parts.push(Buffer.from('CARMAEND', 'latin1'));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, Buffer.from(hashHex(body), 'hex')]);
}
