/**
 * Test support: an index file as an earlier format version would hold it (see the
 * format in crates/carma/src/vector/file.rs).
 */
import { CHECKSUM_BYTES, CODES_FLAG, ROW_BOUND_BYTES } from './file-format.js';

/** The file without its row codes, and its checksum dropped (what version 1 lacks). */
function withoutCodes(file: Buffer): Buffer {
  const body = Buffer.from(file.subarray(0, file.length - CHECKSUM_BYTES));
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
