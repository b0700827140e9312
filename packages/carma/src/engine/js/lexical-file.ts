/**
 * The lexical index file in TypeScript: the same bytes as crates/carma/src/bm25/file.rs
 * writes (the layout is described there), and the same checks and messages when reading.
 */
import { AiosError, type Hashing } from '@aios/utils';
import { CHECKSUM_BYTES, END, HEADER_PREFIX_BYTES } from '../file-format.js';
import type { Bm25Params } from '../types.js';
import { FileReader } from './file-reader.js';

const MAGIC = 'CARMALX1';
/** The version `encodeLexicalFile` writes. */
export const LEXICAL_FORMAT_VERSION = 1;

/** What a lexical file holds: the live documents, and the terms some of them have. */
export interface LexicalFileContents {
  params: Bm25Params;
  /** Per document, in slot order: its label and its length in tokens. */
  labels: Uint32Array;
  lengths: Uint32Array;
  /** Per term, in id order: the term, its documents (ascending slots) and frequencies. */
  terms: Array<{ term: string; slots: Uint32Array; tfs: Uint32Array }>;
}

const corrupt = (what: string) => new AiosError('INDEX_CORRUPT', `lexical index file: ${what}`);

const u32Bytes = (a: Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function encodeLexicalFile(c: LexicalFileContents, blake3: Hashing): Uint8Array {
  const header = new DataView(new ArrayBuffer(36));
  for (let i = 0; i < 8; i++) header.setUint8(i, MAGIC.charCodeAt(i));
  header.setUint32(8, LEXICAL_FORMAT_VERSION, true);
  header.setUint32(12, c.labels.length, true);
  header.setUint32(16, c.terms.length, true);
  header.setFloat64(20, c.params.k1, true);
  header.setFloat64(28, c.params.b, true);
  const parts: Uint8Array[] = [
    new Uint8Array(header.buffer),
    u32Bytes(c.labels),
    u32Bytes(c.lengths),
  ];
  for (const { term, slots, tfs } of c.terms) {
    const name = Buffer.from(term, 'utf8');
    const head = new Uint8Array(4 + name.length + ((4 - (name.length % 4)) % 4) + 4);
    const view = new DataView(head.buffer);
    view.setUint32(0, name.length, true);
    head.set(name, 4);
    view.setUint32(head.length - 4, slots.length, true);
    parts.push(head, u32Bytes(slots), u32Bytes(tfs));
  }
  parts.push(new Uint8Array(Buffer.from(END, 'latin1')));
  const body = Buffer.concat(parts);
  return Buffer.concat([body, Buffer.from(blake3.hashSync(body), 'hex')]);
}

/** Reads a file `encodeLexicalFile` (or the native save) wrote; `INDEX_CORRUPT` when it cannot be trusted. */
export function decodeLexicalFile(bytes: Uint8Array, blake3: Hashing): LexicalFileContents {
  if (
    bytes.length < HEADER_PREFIX_BYTES ||
    Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC
  ) {
    throw corrupt('not a CARMA lexical index (bad magic)');
  }
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (version !== LEXICAL_FORMAT_VERSION) throw corrupt(`unsupported version ${version}`);
  const body = bytes.subarray(0, Math.max(0, bytes.length - CHECKSUM_BYTES));
  const stored = Buffer.from(bytes.subarray(body.length)).toString('hex');
  if (bytes.length < CHECKSUM_BYTES || blake3.hashSync(body) !== stored) {
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
  const names = new Set<string>();
  const terms: LexicalFileContents['terms'] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (let id = 0; id < termCount; id++) {
    const n = r.u32();
    const raw = r.take(n);
    r.take((4 - (n % 4)) % 4);
    let term: string;
    try {
      term = utf8.decode(raw);
    } catch {
      throw corrupt('a term is not UTF-8');
    }
    if (term === '' || names.has(term)) throw corrupt(`term ${id} is empty or appears twice`);
    names.add(term);
    const count = r.u32();
    const slots = r.u32s(count);
    const tfs = r.u32s(count);
    if (count === 0) throw corrupt(`term ${id} has no documents`);
    for (let i = 0; i < count; i++) {
      const slot = slots[i] as number;
      const tf = tfs[i] as number;
      if (slot >= docs || (i > 0 && slot <= (slots[i - 1] as number)) || tf === 0) {
        throw corrupt(`term ${id}: bad document list`);
      }
      counted[slot] = (counted[slot] as number) + tf;
    }
    terms.push({ term, slots, tfs });
  }
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
  return { params, labels, lengths, terms };
}
