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
 *   64  f64[count] the importance of each (in label order)
 *       u32[count] labels, ascending
 *       u32[count] the namespace of each (index into the list)
 *       u32[count] where each id ends in the ids
 *       u32[count] the entries in the order of their ids (JavaScript string order)
 *       the namespace list, padded to 4 bytes
 *       the ids
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AiosError, atomicWriteFile, isAiosError } from '@aios/utils';
import type { MemoryContext } from './context.js';
import { CarmaErrorCode } from './errors.js';
import type { FragmentRecord } from './fragment-store.js';
import { memoryLogger } from './memory-logger.js';

const MAGIC = 'CARMALM1';
const VERSION = 1;
const HEADER_BYTES = 64;
const CHECKSUM_AT = 32;

/** The label map of a checkpoint, when the memory has a directory. */
export function labelMapPath(ctx: MemoryContext, generation: number): string | undefined {
  return ctx.options.dir === undefined
    ? undefined
    : join(ctx.options.dir, `labels-${generation}.bin`);
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
    private readonly idOrder: Uint32Array,
    readonly namespaces: readonly string[],
    private readonly ids: Uint8Array,
  ) {}

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
    const start = entry === 0 ? 0 : (this.idEnds[entry - 1] as number);
    return this.decoder.decode(this.ids.subarray(start, this.idEnds[entry]));
  }

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

  /** The entry of the fragment with this id, or -1 (a binary search over the ids). */
  entryOfId(id: string): number {
    const order = this.idOrder;
    let lo = 0;
    let hi = order.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const entry = order[mid] as number;
      const at = this.idAt(entry);
      if (at === id) return entry;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** The bytes of a label map holding `records`. */
export async function encodeLabelMap(
  ctx: MemoryContext,
  records: Iterable<FragmentRecord>,
): Promise<Uint8Array[]> {
  const entries = [...records].sort((a, b) => a.label - b.label);
  const count = entries.length;
  const namespaceIndex = new Map<string, number>();
  const encoder = new TextEncoder();
  const idBytes = entries.map((f) => encoder.encode(f.id));
  const importance = Float64Array.from(entries, (f) => f.importance);
  const numbers = new Uint32Array(4 * count);
  const labels = numbers.subarray(0, count);
  const namespaceOf = numbers.subarray(count, 2 * count);
  const idEnds = numbers.subarray(2 * count, 3 * count);
  const idOrder = numbers.subarray(3 * count);
  let end = 0;
  entries.forEach((f, i) => {
    labels[i] = f.label;
    let ns = namespaceIndex.get(f.namespace);
    if (ns === undefined) {
      ns = namespaceIndex.size;
      namespaceIndex.set(f.namespace, ns);
    }
    namespaceOf[i] = ns;
    end += (idBytes[i] as Uint8Array).length;
    idEnds[i] = end;
  });
  const byId = entries.map((_, i) => i);
  byId.sort((a, b) => {
    const x = (entries[a] as FragmentRecord).id;
    const y = (entries[b] as FragmentRecord).id;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  idOrder.set(byId);
  const names = encoder.encode(JSON.stringify([...namespaceIndex.keys()]));
  const namesPadded = new Uint8Array(Math.ceil(names.length / 4) * 4);
  namesPadded.set(names);
  const ids = new Uint8Array(end);
  let at = 0;
  for (const bytes of idBytes) {
    ids.set(bytes, at);
    at += bytes.length;
  }
  const body = [
    new Uint8Array(importance.buffer),
    new Uint8Array(numbers.buffer),
    namesPadded,
    ids,
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
  records: Iterable<FragmentRecord>,
): Promise<void> {
  await atomicWriteFile(path, await encodeLabelMap(ctx, records));
}

/** Why a label map cannot be trusted. */
function damaged(reason: string): AiosError {
  return new AiosError(CarmaErrorCode.INDEX_CORRUPT, `label map: ${reason}`);
}

/** Decodes a label map file; anything it cannot trust is an INDEX_CORRUPT error. */
export async function decodeLabelMap(ctx: MemoryContext, bytes: Buffer): Promise<LabelMap> {
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) {
    throw damaged('not a label map');
  }
  const version = bytes.readUInt32LE(8);
  if (version !== VERSION) throw damaged(`format version ${version}`);
  const count = bytes.readUInt32LE(12);
  const namesLength = bytes.readUInt32LE(16);
  const idsLength = bytes.readUInt32LE(20);
  const numbersAt = HEADER_BYTES + 8 * count;
  const namesAt = numbersAt + 16 * count;
  const idsAt = namesAt + Math.ceil(namesLength / 4) * 4;
  if (idsAt + idsLength !== bytes.length) throw damaged('wrong length');
  const digest = await ctx.hashing.hash(bytes.subarray(HEADER_BYTES));
  if (digest !== bytes.toString('hex', CHECKSUM_AT, CHECKSUM_AT + 32)) {
    throw damaged('checksum mismatch');
  }
  // Copies aligned for the typed arrays (a read file's buffer may start anywhere).
  const importance = new Float64Array(count);
  new Uint8Array(importance.buffer).set(bytes.subarray(HEADER_BYTES, numbersAt));
  const numbers = new Uint32Array(4 * count);
  new Uint8Array(numbers.buffer).set(bytes.subarray(numbersAt, namesAt));
  const names: unknown = JSON.parse(bytes.toString('utf8', namesAt, namesAt + namesLength));
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    throw damaged('bad namespace list');
  }
  const map = new LabelMap(
    importance,
    numbers.subarray(0, count),
    numbers.subarray(count, 2 * count),
    numbers.subarray(2 * count, 3 * count),
    numbers.subarray(3 * count),
    names as string[],
    new Uint8Array(bytes.buffer, bytes.byteOffset + idsAt, idsLength),
  );
  checkLabelMap(map, numbers, names.length, idsLength);
  return map;
}

/** Refuses a map whose numbers point outside it (a checksum over bad writes still holds). */
function checkLabelMap(
  map: LabelMap,
  numbers: Uint32Array,
  namespaces: number,
  idsLength: number,
): void {
  const count = map.count;
  let previous = -1;
  let end = 0;
  const seen = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = numbers[i] as number;
    const idEnd = numbers[2 * count + i] as number;
    const entry = numbers[3 * count + i] as number;
    if (label <= previous) throw damaged('labels out of order');
    if ((numbers[count + i] as number) >= namespaces) throw damaged('bad namespace');
    if (idEnd < end || idEnd > idsLength) throw damaged('bad id offsets');
    if (entry >= count || seen[entry] === 1) throw damaged('bad id order');
    seen[entry] = 1;
    previous = label;
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
    return await decodeLabelMap(ctx, await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
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
