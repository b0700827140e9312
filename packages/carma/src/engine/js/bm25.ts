import { AiosError, ErrorCode } from '@aios/utils';
import {
  checkDimension,
  checkDocuments,
  checkK,
  checkLabel,
  checkLabels,
  checkText,
  checkTexts,
} from '../checks.js';
import type { Bm25Params, Hits, LexicalIndex, PreparedQuery } from '../types.js';
import { embedTokensInto } from './embed.js';
import { tokenize } from './text.js';
import { TopK } from './topk.js';

/** BM25 in TypeScript, the same scoring as crates/carma/src/bm25.rs. */
export class JsLexicalIndex implements LexicalIndex {
  private readonly vocab = new Map<string, number>();
  private readonly postSlots: number[][] = [];
  private readonly postTfs: number[][] = [];
  private readonly docLen: number[] = [];
  private readonly docTerms: number[][] = [];
  private readonly slotLabels: number[] = [];
  private readonly bySlot = new Map<number, number>();
  private totalLen = 0;

  constructor(readonly params: Bm25Params) {}

  get size(): number {
    return this.bySlot.size;
  }

  has(label: number): boolean {
    return this.bySlot.has(checkLabel(label));
  }

  add(labels: Uint32Array, texts: string[]): void {
    checkDocuments(labels, texts);
    this.remove(labels);
    for (let i = 0; i < labels.length; i++) {
      const tokens = tokenize(texts[i] as string);
      const tf = new Map<number, number>();
      for (const t of tokens) {
        let id = this.vocab.get(t);
        if (id === undefined) {
          id = this.vocab.size;
          this.vocab.set(t, id);
          this.postSlots.push([]);
          this.postTfs.push([]);
        }
        tf.set(id, (tf.get(id) ?? 0) + 1);
      }
      const slot = this.slotLabels.length;
      const terms = [...tf.keys()].sort((a, b) => a - b);
      for (const t of terms) {
        (this.postSlots[t] as number[]).push(slot);
        (this.postTfs[t] as number[]).push(tf.get(t) as number);
      }
      this.docLen.push(tokens.length);
      this.totalLen += tokens.length;
      this.docTerms.push(terms);
      this.slotLabels.push(labels[i] as number);
      this.bySlot.set(labels[i] as number, slot);
    }
  }

  remove(labels: Uint32Array): number {
    checkLabels(labels);
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
    for (const token of tokenize(query)) {
      const t = this.vocab.get(token);
      if (t !== undefined) terms.push(t);
    }
    return this.scoreTerms(terms, k, filter);
  }

  prepareQuery(query: string, dimension?: number): PreparedQuery {
    checkText(query, 'query');
    if (dimension !== undefined) checkDimension(dimension);
    const tokens = tokenize(query);
    const n = this.size;
    const terms: number[] = [];
    const idf = new Float64Array(tokens.length);
    tokens.forEach((token, i) => {
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
      embedTokensInto(tokens, prepared.vector, idf);
    }
    return prepared;
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
    const scores = new Map<number, number>();
    for (let q = 0; q < terms.length; q++) {
      const t = terms[q] as number;
      const slots = this.postSlots[t] as number[];
      if (slots.length === 0) continue;
      const tfs = this.postTfs[t] as number[];
      const df = slots.length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i] as number;
        const tf = tfs[i] as number;
        const dl = this.docLen[slot] as number;
        const norm = avgdl > 0 ? k1 * (1 - b + (b * dl) / avgdl) : k1;
        scores.set(slot, (scores.get(slot) ?? 0) + (idf * tf * (k1 + 1)) / (tf + norm));
      }
    }
    let allowed: Set<number> | undefined;
    if (filter) {
      allowed = new Set();
      for (const l of filter) {
        const s = this.bySlot.get(l);
        if (s !== undefined) allowed.add(s);
      }
    }
    const top = new TopK(k);
    for (const [slot, score] of scores) {
      if (allowed && !allowed.has(slot)) continue;
      top.push(Math.fround(score), this.slotLabels[slot] as number);
    }
    const { scores: s, ids } = top.sorted();
    return { labels: Uint32Array.from(ids), scores: Float32Array.from(s) };
  }
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
