import { setImmediate as nextTurn } from 'node:timers/promises';
import { AiosError, ErrorCode, type Hashing } from '@aios/utils';
import {
  checkDimension,
  checkDocuments,
  checkK,
  checkLabel,
  checkLabels,
  checkText,
  checkTexts,
} from '../checks.js';
import {
  type Bm25Params,
  type Hits,
  LEXICAL_TOKENIZER,
  type LexicalIndex,
  type LoadOptions,
  type PreparedQuery,
} from '../types.js';
import { embedTokensInto } from './embed.js';
import { loadIndexFile, saveIndexFile } from './index-file.js';
import { decodeLexicalFile, encodeLexicalFile, type LexicalFileContents } from './lexical-file.js';
import { lexicalTokens, tokenize } from './text.js';
import { TopK } from './topk.js';

/**
 * BM25 in TypeScript, the same scoring as crates/carma/src/bm25.rs, with the same
 * MaxScore pruning (document at a time; terms whose bounds cannot lift a document into
 * the top-k only complete the scores of documents found through the others) and every
 * kept score summed in query order, so both return the same hits to the last bit.
 */
/** Documents `addAsync` adds per turn of the event loop (about 5 ms). */
const ADD_SLICE_DOCUMENTS = 256;

export class JsLexicalIndex implements LexicalIndex {
  private readonly vocab = new Map<string, number>();
  private readonly postSlots: number[][] = [];
  private readonly postTfs: number[][] = [];
  private readonly docLen: number[] = [];
  private readonly docTerms: number[][] = [];
  /**
   * Documents read from a file whose `docTerms` are not listed yet: only a removal needs
   * them, and most opens remove nothing (see `listDocTerms`).
   */
  private unlistedDocs = 0;
  private readonly slotLabels: number[] = [];
  private readonly bySlot = new Map<number, number>();
  /** Per term: the largest term frequency and shortest document seen (never lowered). */
  private readonly maxTf: number[] = [];
  private readonly minLen: number[] = [];
  private totalLen = 0;

  /** See `LexicalIndex.tokenizer`: set by `fromBytes` for an index read from a file. */
  tokenizer = LEXICAL_TOKENIZER;

  constructor(readonly params: Bm25Params) {}

  /** The live documents and terms, renumbered in order (see lexical-file.ts). */
  private contents(): LexicalFileContents {
    const newSlot = new Map<number, number>();
    const labels: number[] = [];
    const lengths: number[] = [];
    this.slotLabels.forEach((label, slot) => {
      if (this.bySlot.get(label) !== slot) return;
      newSlot.set(slot, labels.length);
      labels.push(label);
      lengths.push(this.docLen[slot] as number);
    });
    const names: string[] = [];
    for (const [term, id] of this.vocab) names[id] = term;
    const terms: LexicalFileContents['terms'] = [];
    this.postSlots.forEach((slots, t) => {
      if (slots.length === 0) return;
      terms.push({
        term: names[t] as string,
        slots: Uint32Array.from(slots, (s) => newSlot.get(s) as number),
        tfs: Uint32Array.from(this.postTfs[t] as number[]),
      });
    });
    return {
      params: this.params,
      labels: Uint32Array.from(labels),
      lengths: Uint32Array.from(lengths),
      terms,
      tokenizer: this.tokenizer,
    };
  }

  toBytes(blake3: Hashing): Uint8Array {
    return encodeLexicalFile(this.contents(), blake3);
  }

  /** Reads `bytes` (a lexical file); `INDEX_CORRUPT` when they cannot be trusted. */
  static fromBytes(bytes: Uint8Array, blake3: Hashing, options: LoadOptions = {}): JsLexicalIndex {
    const { params, labels, lengths, terms, tokenizer } = decodeLexicalFile(bytes, blake3, options);
    const index = new JsLexicalIndex(params);
    index.tokenizer = tokenizer;
    for (let slot = 0; slot < labels.length; slot++) {
      const label = labels[slot] as number;
      const length = lengths[slot] as number;
      index.slotLabels.push(label);
      index.bySlot.set(label, slot);
      index.docLen.push(length);
      index.docTerms.push([]);
      index.totalLen += length;
    }
    index.unlistedDocs = labels.length;
    for (let t = 0; t < terms.length; t++) {
      const { term, slots, tfs } = terms[t] as (typeof terms)[number];
      index.vocab.set(term, t);
      index.postSlots.push(Array.from(slots));
      index.postTfs.push(Array.from(tfs));
      let maxTf = 0;
      let minLen = Number.POSITIVE_INFINITY;
      for (let i = 0; i < slots.length; i++) {
        if ((tfs[i] as number) > maxTf) maxTf = tfs[i] as number;
        const length = lengths[slots[i] as number] as number;
        if (length < minLen) minLen = length;
      }
      index.maxTf.push(maxTf);
      index.minLen.push(minLen);
    }
    return index;
  }

  async save(path: string): Promise<void> {
    await saveIndexFile(path, (blake3) => this.toBytes(blake3));
  }

  static async load(path: string, options: LoadOptions = {}): Promise<JsLexicalIndex> {
    return loadIndexFile(path, (bytes, blake3) => JsLexicalIndex.fromBytes(bytes, blake3, options));
  }

  get size(): number {
    return this.bySlot.size;
  }

  has(label: number): boolean {
    return this.bySlot.has(checkLabel(label));
  }

  labels(): Uint32Array {
    return Uint32Array.from(
      this.slotLabels.filter((label, slot) => this.bySlot.get(label) === slot),
    );
  }

  add(labels: Uint32Array, texts: string[]): void {
    checkDocuments(labels, texts);
    this.remove(labels);
    for (let i = 0; i < labels.length; i++) {
      const tokens = lexicalTokens(texts[i] as string);
      const tf = new Map<number, number>();
      for (const t of tokens) {
        let id = this.vocab.get(t);
        if (id === undefined) {
          id = this.vocab.size;
          this.vocab.set(t, id);
          this.postSlots.push([]);
          this.postTfs.push([]);
          this.maxTf.push(0);
          this.minLen.push(Number.POSITIVE_INFINITY);
        }
        tf.set(id, (tf.get(id) ?? 0) + 1);
      }
      const slot = this.slotLabels.length;
      const terms = [...tf.keys()].sort((a, b) => a - b);
      for (const t of terms) {
        const f = tf.get(t) as number;
        (this.postSlots[t] as number[]).push(slot);
        (this.postTfs[t] as number[]).push(f);
        this.maxTf[t] = Math.max(this.maxTf[t] as number, f);
        this.minLen[t] = Math.min(this.minLen[t] as number, tokens.length);
      }
      this.docLen.push(tokens.length);
      this.totalLen += tokens.length;
      this.docTerms.push(terms);
      this.slotLabels.push(labels[i] as number);
      this.bySlot.set(labels[i] as number, slot);
    }
  }

  /** Lists the terms of the documents read from a file, from the postings (in term order). */
  private listDocTerms(): void {
    const docs = this.unlistedDocs;
    if (docs === 0) return;
    this.unlistedDocs = 0;
    this.postSlots.forEach((slots, t) => {
      for (const slot of slots) if (slot < docs) (this.docTerms[slot] as number[]).push(t);
    });
  }

  /** `texts` are checked and not needed: the documents' terms are listed here. */
  remove(labels: Uint32Array, texts?: string[]): number {
    if (texts === undefined) checkLabels(labels);
    else checkDocuments(labels, texts);
    this.listDocTerms();
    let removed = 0;
    for (const label of labels) {
      const slot = this.bySlot.get(label);
      if (slot === undefined) continue;
      this.bySlot.delete(label);
      for (const t of this.docTerms[slot] as number[]) {
        const slots = this.postSlots[t] as number[];
        const pos = binarySearch(slots, slot);
        if (pos >= 0) {
          slots.splice(pos, 1);
          (this.postTfs[t] as number[]).splice(pos, 1);
        }
      }
      this.docTerms[slot] = [];
      this.totalLen -= this.docLen[slot] as number;
      this.docLen[slot] = 0;
      removed++;
    }
    return removed;
  }

  idf(terms: string[]): Float64Array {
    checkTexts(terms, 'terms');
    const n = this.size;
    return Float64Array.from(terms, (t) => {
      const id = this.vocab.get(t);
      const df = id === undefined ? 0 : (this.postSlots[id] as number[]).length;
      return Math.log(1 + (n - df + 0.5) / (df + 0.5));
    });
  }

  search(query: string, k: number, filter?: Uint32Array): Hits {
    checkText(query, 'query');
    checkK(k);
    if (filter !== undefined) checkLabels(filter, 'filter');
    const terms: number[] = [];
    for (const token of lexicalTokens(query)) {
      const t = this.vocab.get(token);
      if (t !== undefined) terms.push(t);
    }
    return this.scoreTerms(terms, k, filter);
  }

  prepareQuery(query: string, dimension?: number): PreparedQuery {
    checkText(query, 'query');
    if (dimension !== undefined) checkDimension(dimension);
    const tokens = tokenize(query);
    // BM25's terms are the embedder's tokens but where marks or a script without spaces
    // make them differ (see text.ts, never for ASCII): then the embedder's tokens are
    // weighted by their own IDFs.
    const lexical = isAscii(query) ? tokens : lexicalTokens(query);
    const differ = lexical !== tokens && !sameTokens(lexical, tokens);
    const n = this.size;
    const terms: number[] = [];
    const idf = new Float64Array(lexical.length);
    lexical.forEach((token, i) => {
      const t = this.vocab.get(token);
      if (t !== undefined) terms.push(t);
      const df = t === undefined ? 0 : (this.postSlots[t] as number[]).length;
      idf[i] = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    });
    // Summed in token order, as the native side does, for the same value to the last bit.
    let idfMass = 0;
    for (const x of idf) idfMass += x;
    const prepared: PreparedQuery = { terms: Uint32Array.from(terms), idfMass };
    if (dimension !== undefined) {
      prepared.vector = new Float32Array(dimension);
      embedTokensInto(tokens, prepared.vector, differ ? this.idf(tokens) : idf);
    }
    return prepared;
  }

  /**
   * One thread here: the documents are added a slice at a time (checked all first), the
   * thread let go in between, so that a batch of thousands does not hold other work.
   */
  async addAsync(labels: Uint32Array, texts: string[]): Promise<void> {
    checkDocuments(labels, texts);
    for (let i = 0; i < labels.length; i += ADD_SLICE_DOCUMENTS) {
      if (i > 0) await nextTurn();
      this.add(
        labels.subarray(i, i + ADD_SLICE_DOCUMENTS),
        texts.slice(i, i + ADD_SLICE_DOCUMENTS),
      );
    }
  }

  // One thread here: the search runs at once, on the caller's.
  async searchTermsAsync(terms: Uint32Array, k: number, filter?: Uint32Array): Promise<Hits> {
    return this.searchTerms(terms, k, filter);
  }

  searchTerms(terms: Uint32Array, k: number, filter?: Uint32Array): Hits {
    checkLabels(terms, 'terms');
    checkK(k);
    if (filter !== undefined) checkLabels(filter, 'filter');
    const known = this.postSlots.length;
    const foreign = terms.find((t) => t >= known);
    if (foreign !== undefined) {
      throw new AiosError(
        ErrorCode.INVALID_INPUT,
        `terms: ${foreign} is not a term id of this index (${known} terms)`,
      );
    }
    return this.scoreTerms(terms, k, filter);
  }

  /** BM25 over term ids of this index, in query order (the float sums in Rust's order). */
  private scoreTerms(terms: ArrayLike<number>, k: number, filter?: Uint32Array): Hits {
    const n = this.size;
    if (n === 0) return { labels: new Uint32Array(0), scores: new Float32Array(0) };
    const avgdl = this.totalLen / n;
    const { k1, b } = this.params;
    const score = (idf: number, tf: number, dl: number): number => {
      const norm = avgdl > 0 ? k1 * (1 - b + (b * dl) / avgdl) : k1;
      return (idf * tf * (k1 + 1)) / (tf + norm);
    };
    // Query order is kept: scores are summed in it.
    const cursors: Cursor[] = [];
    for (let q = 0; q < terms.length; q++) {
      const t = terms[q] as number;
      const slots = this.postSlots[t] as number[];
      if (slots.length === 0) continue;
      const df = slots.length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      // The score grows with the term frequency and shrinks with the length.
      const bound = score(idf, this.maxTf[t] as number, this.minLen[t] as number);
      cursors.push({ slots, tfs: this.postTfs[t] as number[], idf, bound, pos: 0 });
    }
    let allowed: Uint8Array | undefined;
    if (filter) {
      allowed = new Uint8Array(this.slotLabels.length);
      for (const l of filter) {
        const s = this.bySlot.get(l);
        if (s !== undefined) allowed[s] = 1;
      }
    }
    // Terms by ascending bound; below[j] bounds what the first j of them add together. The
    // first `passive` terms cannot lift a document into the top-k on their own: documents
    // are only drawn from the others.
    const order = cursors
      .map((_, i) => i)
      .sort((x, y) => {
        const d = (cursors[x] as Cursor).bound - (cursors[y] as Cursor).bound;
        return d !== 0 ? d : x - y;
      });
    const below = new Float64Array(order.length + 1);
    order.forEach((i, j) => {
      below[j + 1] = (below[j] as number) + (cursors[i] as Cursor).bound;
    });
    let passive = 0;
    let threshold = Number.NEGATIVE_INFINITY;
    const top = new TopK(k);
    for (;;) {
      let slot = Number.POSITIVE_INFINITY;
      for (let j = passive; j < order.length; j++) {
        const c = cursors[order[j] as number] as Cursor;
        if (c.pos < c.slots.length) slot = Math.min(slot, c.slots[c.pos] as number);
      }
      if (slot === Number.POSITIVE_INFINITY) break;
      const dl = this.docLen[slot] as number;
      if (
        (!allowed || allowed[slot] === 1) &&
        this.mayReach(cursors, order, below, passive, slot, dl, threshold, score)
      ) {
        let total = 0;
        for (const c of cursors) {
          if (c.slots[c.pos] === slot) total += score(c.idf, c.tfs[c.pos] as number, dl);
        }
        top.push(Math.fround(total), this.slotLabels[slot] as number);
        if (top.size === k) {
          threshold = top.threshold();
          while (passive < order.length && loose(below[passive + 1] as number) < threshold)
            passive++;
        }
      }
      for (let j = passive; j < order.length; j++) {
        const c = cursors[order[j] as number] as Cursor;
        if (c.slots[c.pos] === slot) c.pos++;
      }
    }
    const { scores: s, ids } = top.sorted();
    return { labels: Uint32Array.from(ids), scores: Float32Array.from(s) };
  }

  /**
   * Whether `slot` may still reach `threshold`: what the active terms give it plus the
   * bounds of the passive ones, completed term by term (most promising first) until the
   * score is known or certainly too low. Moves the passive cursors to `slot`.
   */
  private mayReach(
    cursors: Cursor[],
    order: number[],
    below: Float64Array,
    passive: number,
    slot: number,
    dl: number,
    threshold: number,
    score: (idf: number, tf: number, dl: number) => number,
  ): boolean {
    let sum = 0;
    for (let j = passive; j < order.length; j++) {
      const c = cursors[order[j] as number] as Cursor;
      if (c.slots[c.pos] === slot) sum += score(c.idf, c.tfs[c.pos] as number, dl);
    }
    if (loose(sum + (below[passive] as number)) < threshold) return false;
    for (let j = passive - 1; j >= 0; j--) {
      const c = cursors[order[j] as number] as Cursor;
      c.pos = seek(c.slots, c.pos, slot);
      if (c.slots[c.pos] === slot) sum += score(c.idf, c.tfs[c.pos] as number, dl);
      if (loose(sum + (below[j] as number)) < threshold) return false;
    }
    return true;
  }
}

/** One occurrence of a query term during a search, with its cursor into the postings. */
interface Cursor {
  slots: number[];
  tfs: number[];
  idf: number;
  /** What this term can add to a score at most. */
  bound: number;
  pos: number;
}

/**
 * A bound loosened by far more than the rounding of any sum of a few terms, as a float32
 * like the kept scores: a document is only skipped when certainly below the threshold.
 */
function loose(bound: number): number {
  return Math.fround(bound * (1 + 1e-9));
}

/** The first position at or after `from` whose slot is at least `slot` (galloping). */
function seek(slots: number[], from: number, slot: number): number {
  if (from >= slots.length || (slots[from] as number) >= slot) return from;
  let step = 1;
  while (from + step < slots.length && (slots[from + step] as number) < slot) step *= 2;
  let lo = from + (step >> 1) + 1;
  let hi = Math.min(from + step, slots.length);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((slots[mid] as number) < slot) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function binarySearch(list: number[], value: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = list[mid] as number;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range itself
const ASCII = /^[\u0000-\u007f]*$/;
const isAscii = (text: string): boolean => ASCII.test(text);

function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((token, i) => token === b[i]);
}
