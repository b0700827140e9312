/**
 * The lexical index file in TypeScript: the same bytes as crates/carma/src/bm25/file.rs
 * writes (the layout is described there), and the same checks and messages when reading.
 * The js engine reads a file whole into memory; the native one maps it and searches the
 * postings where they are.
 */
import { AiosError, type Hashing } from '@aios/utils';
import { CHECKSUM_BYTES, END, HEADER_PREFIX_BYTES } from '../file-format.js';
import { type Bm25Params, LEXICAL_TOKENIZER, type LoadOptions } from '../types.js';
import { FileReader } from './file-reader.js';

const MAGIC = 'CARMALX1';
/**
 * The version `encodeLexicalFile` writes for terms of today's tokenizer: one more than the
 * tokenizer (versions 1 to 3 are still read: 1 and 2 hold terms of tokenizer 1, 3 of
 * tokenizer 2, and an index of them is written with its tokenizer's version again).
 */
export const LEXICAL_FORMAT_VERSION = LEXICAL_TOKENIZER + 1;
/** Words (4 bytes) of the fixed header, and of a version 2 term record before its name. */
const HEADER_WORDS = 9;
const RECORD_WORDS = 4;

/** What a lexical file holds: the live documents, and the terms some of them have. */
export interface LexicalFileContents {
  params: Bm25Params;
  /** Per document, in slot order: its label and its length in tokens. */
  labels: Uint32Array;
  lengths: Uint32Array;
  /** Per term: the term, its documents (ascending slots) and frequencies. */
  terms: Array<{ term: string; slots: Uint32Array; tfs: Uint32Array }>;
  /** The `LEXICAL_TOKENIZER` the terms come from. */
  tokenizer: number;
}

const corrupt = (what: string) => new AiosError('INDEX_CORRUPT', `lexical index file: ${what}`);

const u32Bytes = (a: Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Writes the format version of its terms' tokenizer (terms in bytewise name order, with offsets and bounds). */
export function encodeLexicalFile(c: LexicalFileContents, blake3: Hashing): Uint8Array {
  const terms = c.terms
    .map((t) => ({ ...t, name: Buffer.from(t.term, 'utf8') }))
    .sort((x, y) => Buffer.compare(x.name, y.name));
  const header = new DataView(new ArrayBuffer(HEADER_WORDS * 4));
  for (let i = 0; i < 8; i++) header.setUint8(i, MAGIC.charCodeAt(i));
  header.setUint32(8, c.tokenizer + 1, true);
  header.setUint32(12, c.labels.length, true);
  header.setUint32(16, terms.length, true);
  header.setFloat64(20, c.params.k1, true);
  header.setFloat64(28, c.params.b, true);
  const offsets = new Uint32Array(terms.length);
  let at = HEADER_WORDS + 2 * c.labels.length + terms.length;
  terms.forEach(({ name, slots }, i) => {
    offsets[i] = at;
    at += RECORD_WORDS + Math.ceil(name.length / 4) + 2 * slots.length;
  });
  const parts: Uint8Array[] = [
    new Uint8Array(header.buffer),
    u32Bytes(c.labels),
    u32Bytes(c.lengths),
    u32Bytes(offsets),
  ];
  for (const { name, slots, tfs } of terms) {
    const head = new Uint32Array(RECORD_WORDS + Math.ceil(name.length / 4));
    let maxTf = 0;
    let minLen = 0xffffffff;
    const postings = new Uint32Array(2 * slots.length);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as number;
      const tf = tfs[i] as number;
      maxTf = Math.max(maxTf, tf);
      minLen = Math.min(minLen, c.lengths[slot] as number);
      postings[2 * i] = slot;
      postings[2 * i + 1] = tf;
    }
    head.set([name.length, slots.length, maxTf, minLen]);
    const headBytes = u32Bytes(head);
    headBytes.set(name, RECORD_WORDS * 4);
    parts.push(headBytes, u32Bytes(postings));
  }
  parts.push(new Uint8Array(Buffer.from(END, 'latin1')));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, Buffer.from(blake3.hashSync(body), 'hex')]);
}

/** A term's documents, checked against the lengths and counted into `counted`; its bounds. */
function checkPostings(
  id: number,
  slots: Uint32Array,
  tfs: Uint32Array,
  lengths: Uint32Array,
  counted: Float64Array,
): [maxTf: number, minLen: number] {
  if (slots.length === 0) throw corrupt(`term ${id} has no documents`);
  let maxTf = 0;
  let minLen = 0xffffffff;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i] as number;
    const tf = tfs[i] as number;
    if (slot >= lengths.length || (i > 0 && slot <= (slots[i - 1] as number)) || tf === 0) {
      throw corrupt(`term ${id}: bad document list`);
    }
    counted[slot] = (counted[slot] as number) + tf;
    maxTf = Math.max(maxTf, tf);
    minLen = Math.min(minLen, lengths[slot] as number);
  }
  return [maxTf, minLen];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function termName(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw corrupt('a term is not UTF-8');
  }
}

/**
 * Reads a file `encodeLexicalFile` (or the native save) wrote, in either version, into
 * memory; `INDEX_CORRUPT` when it cannot be trusted.
 */
export function decodeLexicalFile(
  bytes: Uint8Array,
  blake3: Hashing,
  options: LoadOptions = {},
): LexicalFileContents {
  if (
    bytes.length < HEADER_PREFIX_BYTES ||
    Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC
  ) {
    throw corrupt('not a CARMA lexical index (bad magic)');
  }
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (version < 1 || version > LEXICAL_FORMAT_VERSION) {
    throw corrupt(`unsupported version ${version}`);
  }
  const body = bytes.subarray(0, Math.max(0, bytes.length - CHECKSUM_BYTES));
  const stored = Buffer.from(bytes.subarray(body.length)).toString('hex');
  if (bytes.length < CHECKSUM_BYTES || (!options.verified && blake3.hashSync(body) !== stored)) {
    throw corrupt('checksum mismatch (damaged or incomplete since it was written)');
  }
  const r = new FileReader(body, HEADER_PREFIX_BYTES, corrupt);
  const docs = r.u32();
  const termCount = r.u32();
  const params = { k1: r.f64(), b: r.f64() };
  if (!(Number.isFinite(params.k1) && params.k1 >= 0 && params.b >= 0 && params.b <= 1)) {
    throw corrupt('bad BM25 parameters');
  }
  // Each document takes 8 bytes and each term at least 8: counts the body cannot hold
  // are refused before anything is allocated for them.
  if (docs * 8 + termCount * 8 > body.length) throw corrupt('truncated');
  const labels = r.u32s(docs);
  const lengths = r.u32s(docs);
  const seen = new Set<number>();
  for (const label of labels) {
    if (seen.has(label)) throw corrupt(`label ${label} appears twice`);
    seen.add(label);
  }
  const counted = new Float64Array(docs);
  const terms: LexicalFileContents['terms'] =
    version === 1
      ? readTerms1(r, termCount, lengths, counted)
      : readTerms2(r, termCount, lengths, counted);
  if (Buffer.from(r.take(8)).toString('latin1') !== END || !r.atEnd) {
    throw corrupt('missing end marker or bytes after it');
  }
  for (let slot = 0; slot < docs; slot++) {
    if (lengths[slot] !== counted[slot]) {
      throw corrupt(
        `document ${slot}: length ${lengths[slot]}, frequencies summing to ${counted[slot]}`,
      );
    }
  }
  return { params, labels, lengths, terms, tokenizer: Math.max(version, 2) - 1 };
}

/** Version 1: per term, in id order, its name, then its slots and frequencies. */
function readTerms1(
  r: FileReader,
  termCount: number,
  lengths: Uint32Array,
  counted: Float64Array,
): LexicalFileContents['terms'] {
  const names = new Set<string>();
  const terms: LexicalFileContents['terms'] = [];
  for (let id = 0; id < termCount; id++) {
    const n = r.u32();
    const term = termName(r.take(n));
    r.take((4 - (n % 4)) % 4);
    if (term === '' || names.has(term)) throw corrupt(`term ${id} is empty or appears twice`);
    names.add(term);
    const count = r.u32();
    const slots = r.u32s(count);
    const tfs = r.u32s(count);
    checkPostings(id, slots, tfs, lengths, counted);
    terms.push({ term, slots, tfs });
  }
  return terms;
}

/** Version 2: offsets, then per term, in name order, its record with bounds and postings. */
function readTerms2(
  r: FileReader,
  termCount: number,
  lengths: Uint32Array,
  counted: Float64Array,
): LexicalFileContents['terms'] {
  const offsets = r.u32s(termCount);
  const terms: LexicalFileContents['terms'] = [];
  let last: Uint8Array | undefined;
  for (let id = 0; id < termCount; id++) {
    if ((offsets[id] as number) * 4 !== r.pos) {
      throw corrupt(`term ${id}: offset ${offsets[id]} is not where its record is`);
    }
    const head = r.u32s(RECORD_WORDS);
    const n = head[0] as number;
    const count = head[1] as number;
    const raw = r.take(n);
    r.take((4 - (n % 4)) % 4);
    const term = termName(raw);
    if (raw.length === 0 || (last !== undefined && Buffer.compare(raw, last) <= 0)) {
      throw corrupt(`term ${id} is empty, out of order or appears twice`);
    }
    last = raw;
    const postings = r.u32s(2 * count);
    const slots = new Uint32Array(count);
    const tfs = new Uint32Array(count);
    for (let i = 0; i < slots.length; i++) {
      slots[i] = postings[2 * i] as number;
      tfs[i] = postings[2 * i + 1] as number;
    }
    const [max, min] = checkPostings(id, slots, tfs, lengths, counted);
    if (max !== head[2] || min !== head[3]) {
      throw corrupt(`term ${id}: bounds differ from its postings`);
    }
    terms.push({ term, slots, tfs });
  }
  return terms;
}
