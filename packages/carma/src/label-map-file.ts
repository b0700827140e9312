/**
 * The label map file, `labels-<generation>.bin` beside the index files of a checkpoint:
 * which fragment (id, namespace, importance) holds each label the indexes return. Opening
 * a memory from a checkpoint reads it instead of every fragment's record, so that a search
 * answers after reading a few megabytes, and the records of its results are read from the
 * store. (The importance is what the opt-in importance term of a search scores with.)
 *
 * Layout (little-endian, every section aligned to its numbers):
 *
 *   0   magic `CARMALM1`
 *   8   u32 format version
 *   12  u32 count (fragments)
 *   16  u32 bytes of the namespace list (JSON array of strings)
 *   20  u32 bytes of the ids (UTF-8, back to back)
 *   24  8 bytes reserved (zero)
 *   32  BLAKE3 of every byte from 64 on
 *   64  f64[count] the importance of each (in label order, as what follows)
 *       u32[count] labels, ascending
 *       u32[count] the namespace of each (index into the list)
 *       u32[count] where each id ends in the ids
 *       u32[count] the FNV-1a hashes of the ids (of their UTF-8 bytes), ascending
 *       u32[count] the entry of each of those hashes
 *       u32[count] the FNV-1a hashes of the content hashes, ascending (version 2 on)
 *       u32[count] the entry of each of those hashes (version 2 on)
 *       the namespace list, padded to 4 bytes
 *       the ids
 *
 * The content hashes let a write find the fragment already holding a text (dedup) without
 * every record: they name candidates, whose records are read to compare. A version 1 map
 * has none: a write then reads every record first.
 */
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AiosError, atomicWriteFile, isAiosError } from '@aios/utils';
import { loadChecked } from './checked-files.js';
import type { MemoryContext } from './context.js';
import type { LoadOptions } from './engine/index.js';
import { CarmaErrorCode } from './errors.js';
import type { FragmentRecord } from './fragment-store.js';
import { memoryLogger } from './memory-logger.js';

/** Entries encoded between two turns of the event loop (about 10 ms of the JS thread). */
const ENTRIES_PER_TURN = 16_384;
const MAGIC = 'CARMALM1';
const VERSION = 2;
/** u32 arrays per entry, by format version. */
const NUMBERS_PER_ENTRY: Record<number, number> = { 1: 5, 2: 7 };
const HEADER_BYTES = 64;
const CHECKSUM_AT = 32;

/** The label map of a checkpoint, when the memory has a directory. */
export function labelMapPath(ctx: MemoryContext, generation: number): string | undefined {
  return ctx.options.dir === undefined
    ? undefined
    : join(ctx.options.dir, `labels-${generation}.bin`);
}

/** FNV-1a (32-bit) of a content hash's characters: what a map finds texts by. */
export function contentKeyHash(contentHash: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < contentHash.length; i++) {
    hash ^= contentHash.charCodeAt(i) & 0xff;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Who holds each label, as read from a label map file (see the layout above). */
export class LabelMap {
  private readonly decoder = new TextDecoder();

  constructor(
    /** By entry. */
    private readonly importance: Float64Array,
    /** Ascending. */
    readonly labels: Uint32Array,
    private readonly namespaceOf: Uint32Array,
    private readonly idEnds: Uint32Array,
    private readonly idHashes: Uint32Array,
    private readonly hashEntries: Uint32Array,
    readonly namespaces: readonly string[],
    private readonly ids: Uint8Array,
    /** `contentKeyHash` of each entry's content, ascending; absent from a version 1 map. */
    private readonly contentKeys?: Uint32Array,
    private readonly contentEntries?: Uint32Array,
  ) {}

  /** Whether the map finds texts (`entriesWithContent`); a version 1 map does not. */
  get knowsContent(): boolean {
    return this.contentKeys !== undefined;
  }

  /**
   * The entries whose content hash may be `contentHash` (the same `contentKeyHash`): the
   * candidates to compare, a few at most. Empty for a map that does not know content.
   */
  entriesWithContent(contentHash: string): number[] {
    const keys = this.contentKeys;
    const entries = this.contentEntries;
    if (!keys || !entries) return [];
    const key = contentKeyHash(contentHash);
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((keys[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < keys.length && keys[i] === key; i++) out.push(entries[i] as number);
    return out;
  }

  /**
   * The entry as the next map is written from it: what `encodeLabelMap` copies as it is
   * (id bytes and hashes included) rather than decoding and encoding it again.
   */
  refAt(entry: number): LabelMapEntryRef {
    return { map: this, entry };
  }

  /** The entry's content key (0 in a version 1 map, which has none). */
  contentKeyAt(entry: number): number {
    if (!this.contentKeys || !this.contentEntries) return 0;
    this.contentKeyOf ??= invert(this.contentKeys, this.contentEntries);
    return this.contentKeyOf[entry] as number;
  }

  /** Content key by entry, made when a checkpoint rewrites the map from this one. */
  private contentKeyOf: Uint32Array | undefined;

  get count(): number {
    return this.labels.length;
  }

  /** The entry of `label`, or -1. */
  entryOf(label: number): number {
    const labels = this.labels;
    let lo = 0;
    let hi = labels.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = labels[mid] as number;
      if (at === label) return mid;
      if (at < label) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  idAt(entry: number): string {
    return this.decoder.decode(this.idBytesAt(entry));
  }

  /** The UTF-8 bytes of the entry's id (a view of the map's). */
  idBytesAt(entry: number): Uint8Array {
    const start = entry === 0 ? 0 : (this.idEnds[entry - 1] as number);
    return this.ids.subarray(start, this.idEnds[entry]);
  }

  /** The FNV-1a hash of the entry's id. */
  idHashAt(entry: number): number {
    this.idHashOf ??= invert(this.idHashes, this.hashEntries);
    return this.idHashOf[entry] as number;
  }

  /** Id hash by entry, made when a checkpoint rewrites the map from this one. */
  private idHashOf: Uint32Array | undefined;

  importanceAt(entry: number): number {
    return this.importance[entry] as number;
  }

  namespaceAt(entry: number): string {
    return this.namespaces[this.namespaceOf[entry] as number] as string;
  }

  /** Index into `namespaces` of the entry's namespace. */
  namespaceIndexAt(entry: number): number {
    return this.namespaceOf[entry] as number;
  }

  /**
   * The entries whose id starts or ends with `part` (compared as UTF-8 bytes, so no id is
   * decoded but those that match).
   */
  entriesWithIdPart(part: string): number[] {
    const wanted = Buffer.from(part, 'utf8');
    const n = wanted.length;
    const { ids, idEnds } = this;
    const out: number[] = [];
    let start = 0;
    for (let entry = 0; entry < idEnds.length; entry++) {
      const end = idEnds[entry] as number;
      if (end - start >= n && (bytesAt(ids, start, wanted) || bytesAt(ids, end - n, wanted))) {
        out.push(entry);
      }
      start = end;
    }
    return out;
  }

  /** The entry of the fragment with this id, or -1 (a binary search over the id hashes). */
  entryOfId(id: string): number {
    const bytes = Buffer.from(id, 'utf8');
    const hash = fnv1a(bytes, 0, bytes.length);
    const hashes = this.idHashes;
    let lo = 0;
    let hi = hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((hashes[mid] as number) < hash) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < hashes.length && hashes[i] === hash; i++) {
      const entry = this.hashEntries[i] as number;
      if (this.idAt(entry) === id) return entry;
    }
    return -1;
  }
}

/** `keys[i]` moved to `entries[i]`: the keys by entry. */
function invert(keys: Uint32Array, entries: Uint32Array): Uint32Array {
  const out = new Uint32Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[entries[i] as number] = keys[i] as number;
  return out;
}

/** FNV-1a (32-bit) of `bytes[start..end]`. */
function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    hash ^= bytes[i] as number;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Sorts `keys` ascending, moving `values` with them (two passes of 16 bits: 100k pairs in
 * a few milliseconds, where a comparison sort takes tens).
 */
function radixSort(keys: Uint32Array, values: Uint32Array): void {
  const n = keys.length;
  const spareKeys = new Uint32Array(n);
  const spareValues = new Uint32Array(n);
  const pass = (
    shift: number,
    fromKeys: Uint32Array,
    fromValues: Uint32Array,
    toKeys: Uint32Array,
    toValues: Uint32Array,
  ) => {
    const starts = new Uint32Array(65_537);
    for (let i = 0; i < n; i++) {
      const bucket = (((fromKeys[i] as number) >>> shift) & 0xffff) + 1;
      starts[bucket] = (starts[bucket] as number) + 1;
    }
    for (let b = 0; b < 65_536; b++)
      starts[b + 1] = (starts[b + 1] as number) + (starts[b] as number);
    for (let i = 0; i < n; i++) {
      const bucket = ((fromKeys[i] as number) >>> shift) & 0xffff;
      const at = starts[bucket] as number;
      starts[bucket] = at + 1;
      toKeys[at] = fromKeys[i] as number;
      toValues[at] = fromValues[i] as number;
    }
  };
  pass(0, keys, values, spareKeys, spareValues);
  pass(16, spareKeys, spareValues, keys, values);
  // After two passes the sorted pairs are back in the arrays given.
}

/** An entry of a map read before, written again as it is. */
export interface LabelMapEntryRef {
  map: LabelMap;
  entry: number;
}

/** What a map is written from: fragment records, or the entries of a map read before. */
export type LabelMapSource = FragmentRecord | LabelMapEntryRef;

function isRef(f: LabelMapSource): f is LabelMapEntryRef {
  return 'map' in f;
}

const labelOf = (f: LabelMapSource): number =>
  (isRef(f) ? f.map.labels[f.entry] : f.label) as number;

/** The bytes of a label map holding `records`. */
export async function encodeLabelMap(
  ctx: MemoryContext,
  records: Iterable<LabelMapSource>,
): Promise<Uint8Array[]> {
  const entries = [...records];
  // In label order already when read from a dense label table: sorted only if not.
  if (entries.some((f, i) => i > 0 && labelOf(entries[i - 1] as LabelMapSource) > labelOf(f))) {
    entries.sort((a, b) => labelOf(a) - labelOf(b));
  }
  const count = entries.length;
  const namespaceIndex = new Map<string, number>();
  const namespaceOfName = (name: string): number => {
    let ns = namespaceIndex.get(name);
    if (ns === undefined) {
      ns = namespaceIndex.size;
      namespaceIndex.set(name, ns);
    }
    return ns;
  };
  // A map's namespace indexes, renumbered into this one's, once per map.
  const fromMaps = new Map<LabelMap, Int32Array>();
  const namespaceOfRef = ({ map, entry }: LabelMapEntryRef): number => {
    let renumbered = fromMaps.get(map);
    if (!renumbered) {
      renumbered = new Int32Array(map.namespaces.length).fill(-1);
      fromMaps.set(map, renumbered);
    }
    const from = map.namespaceIndexAt(entry);
    if ((renumbered[from] as number) < 0)
      renumbered[from] = namespaceOfName(map.namespaceAt(entry));
    return renumbered[from] as number;
  };
  const importance = new Float64Array(count);
  const numbers = new Uint32Array(7 * count);
  const labels = numbers.subarray(0, count);
  const namespaceOf = numbers.subarray(count, 2 * count);
  const idEnds = numbers.subarray(2 * count, 3 * count);
  const idHashes = numbers.subarray(3 * count, 4 * count);
  const hashEntries = numbers.subarray(4 * count, 5 * count);
  const contentKeys = numbers.subarray(5 * count, 6 * count);
  const contentEntries = numbers.subarray(6 * count);
  let idBytes = 0;
  for (const f of entries) {
    idBytes += isRef(f) ? f.map.idBytesAt(f.entry).length : Buffer.byteLength(f.id, 'utf8');
  }
  const ids = Buffer.alloc(idBytes);
  let end = 0;
  for (let i = 0; i < count; i++) {
    // The JS thread is let go now and then: a million entries take most of a second,
    // which searches beside a checkpoint would otherwise wait out (no mutation runs
    // meanwhile: a checkpoint holds the memory's turn).
    if (i > 0 && i % ENTRIES_PER_TURN === 0) await nextTurn();
    const f = entries[i] as LabelMapSource;
    const start = end;
    if (isRef(f)) {
      const { map, entry } = f;
      importance[i] = map.importanceAt(entry);
      labels[i] = map.labels[entry] as number;
      namespaceOf[i] = namespaceOfRef(f);
      const bytes = map.idBytesAt(entry);
      ids.set(bytes, start);
      end += bytes.length;
      idHashes[i] = map.idHashAt(entry);
      contentKeys[i] = map.contentKeyAt(entry);
    } else {
      importance[i] = f.importance;
      labels[i] = f.label;
      namespaceOf[i] = namespaceOfName(f.namespace);
      end += ids.write(f.id, start, 'utf8');
      idHashes[i] = fnv1a(ids, start, end);
      contentKeys[i] = contentKeyHash(f.contentHash);
    }
    idEnds[i] = end;
    hashEntries[i] = i;
    contentEntries[i] = i;
  }
  radixSort(contentKeys, contentEntries);
  radixSort(idHashes, hashEntries);
  const names = Buffer.from(JSON.stringify([...namespaceIndex.keys()]), 'utf8');
  const namesPadded = new Uint8Array(Math.ceil(names.length / 4) * 4);
  namesPadded.set(names);
  const body = [
    new Uint8Array(importance.buffer),
    new Uint8Array(numbers.buffer),
    namesPadded,
    new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength),
  ];
  const hasher = await ctx.hashing.createHasher();
  for (const part of body) hasher.update(part);
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(VERSION, 8);
  header.writeUInt32LE(count, 12);
  header.writeUInt32LE(names.length, 16);
  header.writeUInt32LE(end, 20);
  Buffer.from(hasher.digest(), 'hex').copy(header, CHECKSUM_AT);
  return [header, ...body];
}

/** Writes the label map of `records` (atomically: a crash leaves the old file or none). */
export async function saveLabelMap(
  ctx: MemoryContext,
  path: string,
  records: Iterable<LabelMapSource>,
): Promise<void> {
  await atomicWriteFile(path, await encodeLabelMap(ctx, records));
}

/** Why a label map cannot be trusted. */
function damaged(reason: string): AiosError {
  return new AiosError(CarmaErrorCode.INDEX_CORRUPT, `label map: ${reason}`);
}

/** Decodes a label map file; anything it cannot trust is an INDEX_CORRUPT error. */
export async function decodeLabelMap(
  ctx: MemoryContext,
  file: Uint8Array,
  options: LoadOptions = {},
): Promise<LabelMap> {
  // A Buffer over the same bytes (natively a mapping of the file: nothing is copied).
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) {
    throw damaged('not a label map');
  }
  const version = bytes.readUInt32LE(8);
  const perEntry = NUMBERS_PER_ENTRY[version];
  if (perEntry === undefined) throw damaged(`format version ${version}`);
  const count = bytes.readUInt32LE(12);
  const namesLength = bytes.readUInt32LE(16);
  const idsLength = bytes.readUInt32LE(20);
  const numbersAt = HEADER_BYTES + 8 * count;
  const namesAt = numbersAt + 4 * perEntry * count;
  const idsAt = namesAt + Math.ceil(namesLength / 4) * 4;
  if (idsAt + idsLength !== bytes.length) throw damaged('wrong length');
  if (!options.verified) {
    const digest = await ctx.hashing.hash(bytes.subarray(HEADER_BYTES));
    if (digest !== bytes.toString('hex', CHECKSUM_AT, CHECKSUM_AT + 32)) {
      throw damaged('checksum mismatch');
    }
  }
  // Views of the file's bytes where they are aligned for the typed arrays (a mapped file,
  // or one read whole into a buffer of its own: 3.6 MB not copied at 100k entries), else
  // copies.
  const aligned = bytes.byteOffset % 8 === 0;
  const importance = aligned
    ? new Float64Array(bytes.buffer, bytes.byteOffset + HEADER_BYTES, count)
    : new Float64Array(count);
  const numbers = aligned
    ? new Uint32Array(bytes.buffer, bytes.byteOffset + numbersAt, perEntry * count)
    : new Uint32Array(perEntry * count);
  if (!aligned) {
    new Uint8Array(importance.buffer).set(bytes.subarray(HEADER_BYTES, numbersAt));
    new Uint8Array(numbers.buffer).set(bytes.subarray(numbersAt, namesAt));
  }
  const names: unknown = JSON.parse(bytes.toString('utf8', namesAt, namesAt + namesLength));
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    throw damaged('bad namespace list');
  }
  const map = new LabelMap(
    importance,
    numbers.subarray(0, count),
    numbers.subarray(count, 2 * count),
    numbers.subarray(2 * count, 3 * count),
    numbers.subarray(3 * count, 4 * count),
    numbers.subarray(4 * count, 5 * count),
    names as string[],
    new Uint8Array(bytes.buffer, bytes.byteOffset + idsAt, idsLength),
    ...(perEntry === 7
      ? [numbers.subarray(5 * count, 6 * count), numbers.subarray(6 * count)]
      : []),
  );
  // Checked once: read by this code alone, a map's numbers can send nothing out of bounds.
  if (!options.verified) checkLabelMap(map, numbers, perEntry, names.length, idsLength);
  return map;
}

/** Refuses a map whose numbers point outside it (a checksum over bad writes still holds). */
function checkLabelMap(
  map: LabelMap,
  numbers: Uint32Array,
  perEntry: number,
  namespaces: number,
  idsLength: number,
): void {
  const count = map.count;
  let previous = -1;
  let previousHash = 0;
  let previousKey = 0;
  let end = 0;
  const seen = new Uint8Array(count);
  const seenContent = new Uint8Array(perEntry === 7 ? count : 0);
  for (let i = 0; i < count; i++) {
    const label = numbers[i] as number;
    const idEnd = numbers[2 * count + i] as number;
    const hash = numbers[3 * count + i] as number;
    const entry = numbers[4 * count + i] as number;
    if (label <= previous) throw damaged('labels out of order');
    if ((numbers[count + i] as number) >= namespaces) throw damaged('bad namespace');
    if (idEnd < end || idEnd > idsLength) throw damaged('bad id offsets');
    if (hash < previousHash) throw damaged('id hashes out of order');
    if (entry >= count || seen[entry] === 1) throw damaged('bad id hash entries');
    seen[entry] = 1;
    if (perEntry === 7) {
      const key = numbers[5 * count + i] as number;
      const contentEntry = numbers[6 * count + i] as number;
      if (key < previousKey) throw damaged('content hashes out of order');
      if (contentEntry >= count || seenContent[contentEntry] === 1) {
        throw damaged('bad content hash entries');
      }
      seenContent[contentEntry] = 1;
      previousKey = key;
    }
    previous = label;
    previousHash = hash;
    end = idEnd;
  }
  if (end !== idsLength) throw damaged('bad id offsets');
}

/**
 * Reads the label map of the checkpoint the store names: undefined when there is none,
 * or it cannot be trusted (logged: the memory then reads every fragment on open).
 */
export async function readLabelMap(
  ctx: MemoryContext,
  path: string,
): Promise<LabelMap | undefined> {
  try {
    return await loadChecked(
      path,
      async (verified) => decodeLabelMap(ctx, await ctx.engine.fileBytes(path), { verified }),
      ctx.store.readOnly === undefined,
    );
  } catch (error) {
    if (isAiosError(error) && error.code === 'IO_NOT_FOUND') return undefined;
    memoryLogger(ctx).warn(
      {
        file: path,
        code: isAiosError(error) ? error.code : 'UNEXPECTED',
        reason: error instanceof Error ? error.message : String(error),
      },
      'the label map cannot be trusted: every fragment is read instead',
    );
    return undefined;
  }
}

/** Whether `bytes` holds `wanted` from `at` on. */
function bytesAt(bytes: Uint8Array, at: number, wanted: Uint8Array): boolean {
  for (let i = 0; i < wanted.length; i++) if (bytes[at + i] !== wanted[i]) return false;
  return true;
}
