import { randomFillSync } from 'node:crypto';

// Ids of rows that are written in bulk: UUID version 7 (RFC 9562), whose first 48 bits are
// the creation time in milliseconds. A B-tree index on random (version 4) ids takes each
// new id on a random page, so a batch of 1,000 rows rewrote most of the index at every
// commit (an ingest of 99,000 fragments wrote 4.3 GB for a 434 MB database); ids in time
// order fill the pages at the end. The uuid package's v7 is ESM-only from version 12 on,
// which the CommonJS builds cannot load on Node 20.17, and the format is a few lines.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Random bytes drawn 4 KiB at a time: one system call per 409 ids. */
const pool = Buffer.alloc(4096);
let used = pool.length;
/** The time part (`xxxxxxxx-xxxx-`) of the last time asked: ids are made many per millisecond. */
let lastAt = -1;
let lastPrefix = '';

const hex = (byte: number) => HEX[byte & 0xff] as string;

/**
 * A UUID version 7: `at` (milliseconds since the epoch; now by default) in the first 48
 * bits, then 74 random bits. Ids sort by creation time to the millisecond; two made in
 * the same millisecond are in random order.
 */
export function timeOrderedUuid(at: number = Date.now()): string {
  if (!Number.isSafeInteger(at) || at < 0 || at >= 2 ** 48) {
    throw new RangeError(`timeOrderedUuid: ${at} is not a time in milliseconds since 1970`);
  }
  if (at !== lastAt) {
    lastAt = at;
    const high = Math.floor(at / 2 ** 16);
    const low = at % 2 ** 16;
    lastPrefix = `${hex(high >>> 24)}${hex(high >>> 16)}${hex(high >>> 8)}${hex(high)}-${hex(low >>> 8)}${hex(low)}-`;
  }
  if (used + 10 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const r = used;
  used += 10;
  const b = (i: number) => pool[r + i] ?? 0;
  return `${lastPrefix}${hex(0x70 | (b(0) & 0x0f))}${hex(b(1))}-${hex(0x80 | (b(2) & 0x3f))}${hex(b(3))}-${hex(b(4))}${hex(b(5))}${hex(b(6))}${hex(b(7))}${hex(b(8))}${hex(b(9))}`;
}
