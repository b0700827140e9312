import { invalidInput } from '@aios/utils';
import type { MemoryFragment, MemoryProvider, MemorySearchOptions } from '../memory.js';
import { contentWords } from '../text.js';

interface Doc {
  id: string;
  text: string;
  length: number;
  metadata: Record<string, unknown> | undefined;
  reinforcement: number;
  /** Deleted or replaced by a newer version: no longer found. */
  gone?: boolean;
}

const K1 = 1.2;
const B = 0.75;

/** A growable posting list: document indexes and term frequencies in typed arrays. */
class Postings {
  docs = new Int32Array(4);
  tfs = new Uint16Array(4);
  length = 0;

  push(doc: number, tf: number): void {
    if (this.length === this.docs.length) {
      const docs = new Int32Array(this.length * 2);
      docs.set(this.docs);
      this.docs = docs;
      const tfs = new Uint16Array(this.length * 2);
      tfs.set(this.tfs);
      this.tfs = tfs;
    }
    this.docs[this.length] = doc;
    this.tfs[this.length] = Math.min(tf, 65_535);
    this.length++;
  }
}

/**
 * An in-process `MemoryProvider`: BM25 over an inverted index of content words, with each
 * fragment's score multiplied by `1 + 0.25 * tanh(reinforcement)` (so feedback moves a
 * fragment up or down by at most 25 %).
 */
export class InMemoryMemory implements MemoryProvider {
  private readonly docs: Doc[] = [];
  private readonly byId = new Map<string, number>();
  private readonly postings = new Map<string, Postings>();
  private totalLength = 0;
  private scores = new Float64Array(0);
  private touched = new Int32Array(0);
  private lengthCache = new Float64Array(0);

  /** Content-word count per document, as a typed array (rebuilt after adds). */
  private lengths(): Float64Array {
    if (this.lengthCache.length !== this.docs.length) {
      this.lengthCache = Float64Array.from(this.docs, (d) => d.length);
    }
    return this.lengthCache;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Adds a fragment; returns its id (`f<n>` unless given). */
  add(text: string, options: { id?: string; metadata?: Record<string, unknown> } = {}): string {
    if (typeof text !== 'string' || text.trim() === '') {
      throw invalidInput('text', text, 'a non-empty string');
    }
    const id = options.id ?? `f${this.docs.length + 1}`;
    if (this.byId.has(id)) throw invalidInput('id', id, 'an id not already in memory');
    return this.insert(id, text, options.metadata);
  }

  private insert(id: string, text: string, metadata: Record<string, unknown> | undefined): string {
    const terms = contentWords(text);
    const index = this.docs.length;
    this.docs.push({
      id,
      text,
      length: terms.length,
      metadata,
      reinforcement: 0,
    });
    this.byId.set(id, index);
    this.totalLength += terms.length;
    const tf = new Map<string, number>();
    for (const term of terms) tf.set(term, (tf.get(term) ?? 0) + 1);
    for (const [term, n] of tf) {
      let list = this.postings.get(term);
      if (!list) {
        list = new Postings();
        this.postings.set(term, list);
      }
      list.push(index, n);
    }
    return id;
  }

  /** The accumulated reinforcement of a fragment (0 when never reinforced). */
  reinforcement(id: string): number {
    const index = this.byId.get(id);
    return index === undefined ? 0 : (this.docs[index]?.reinforcement ?? 0);
  }

  async search(query: string, options: MemorySearchOptions): Promise<MemoryFragment[]> {
    if (typeof query !== 'string') throw invalidInput('query', query, 'a string');
    const k = options?.k;
    if (!Number.isInteger(k) || k < 1) throw invalidInput('k', k, 'a positive integer');
    const n = this.docs.length;
    if (n === 0) return [];
    const avg = this.totalLength / n || 1;
    // Scores accumulate in a dense array; only the documents touched are visited after.
    if (this.scores.length < n) {
      this.scores = new Float64Array(Math.max(n, this.scores.length * 2));
      this.touched = new Int32Array(this.scores.length);
    }
    const scores = this.scores;
    const touched = this.touched;
    let touchedCount = 0;
    const lengths = this.lengths();
    for (const term of new Set(contentWords(query))) {
      const list = this.postings.get(term);
      if (!list) continue;
      const df = list.length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const { docs, tfs } = list;
      for (let i = 0; i < df; i++) {
        const doc = docs[i] as number;
        const tf = tfs[i] as number;
        const norm = K1 * (1 - B + (B * (lengths[doc] as number)) / avg);
        const before = scores[doc] as number;
        if (before === 0) touched[touchedCount++] = doc;
        scores[doc] = before + (idf * tf * (K1 + 1)) / (tf + norm);
      }
    }
    // Top k by insertion into a small sorted list (k is small; no full sort).
    const top: { index: number; score: number }[] = [];
    for (let t = 0; t < touchedCount; t++) {
      const index = touched[t] as number;
      const doc = this.docs[index] as Doc;
      const score = (scores[index] ?? 0) * (1 + 0.25 * Math.tanh(doc.reinforcement));
      scores[index] = 0;
      if (doc.gone) continue;
      if (top.length === k) {
        const last = top[k - 1] as { index: number; score: number };
        if (
          score < last.score ||
          (score === last.score && doc.id >= (this.docs[last.index] as Doc).id)
        )
          continue;
        top.pop();
      }
      let at = top.length;
      while (at > 0) {
        const prev = top[at - 1] as { index: number; score: number };
        const before =
          prev.score > score ||
          (prev.score === score && (this.docs[prev.index] as Doc).id < doc.id);
        if (before) break;
        at--;
      }
      top.splice(at, 0, { index, score });
    }
    return top.map(({ index, score }) => {
      const doc = this.docs[index] as Doc;
      return {
        id: doc.id,
        text: doc.text,
        score,
        ...(doc.metadata ? { metadata: doc.metadata } : {}),
      };
    });
  }

  /** BM25's IDF of each word over the fragments (df 0 for a word none of them has). */
  termIdf(words: readonly string[]): Float64Array {
    const n = this.size;
    return Float64Array.from(words, (word) => {
      const list = this.postings.get(word);
      let df = 0;
      for (let i = 0; i < (list?.length ?? 0); i++) {
        if (!this.docs[list?.docs[i] as number]?.gone) df++;
      }
      return Math.log(1 + (n - df + 0.5) / (df + 0.5));
    });
  }

  async get(id: string): Promise<MemoryFragment | undefined> {
    const index = this.byId.get(id);
    const doc = index === undefined ? undefined : this.docs[index];
    if (!doc) return undefined;
    return { id, text: doc.text, score: 0, ...(doc.metadata ? { metadata: doc.metadata } : {}) };
  }

  /** A new version of the fragment under the same id (the old one is no longer found). */
  async update(
    id: string,
    patch: { text?: string; metadata?: Record<string, unknown> },
  ): Promise<void> {
    const index = this.byId.get(id);
    const doc = index === undefined ? undefined : this.docs[index];
    if (!doc) throw invalidInput('id', id, 'the id of a fragment in memory');
    doc.gone = true;
    this.byId.delete(id);
    this.insert(id, patch.text ?? doc.text, patch.metadata ?? doc.metadata);
  }

  async forget(id: string): Promise<void> {
    const index = this.byId.get(id);
    const doc = index === undefined ? undefined : this.docs[index];
    if (!doc) throw invalidInput('id', id, 'the id of a fragment in memory');
    doc.gone = true;
    this.byId.delete(id);
  }

  async remember(text: string, metadata?: Record<string, unknown>): Promise<string> {
    return this.add(text, metadata ? { metadata } : {});
  }

  async reinforce(ids: readonly string[], weight: number): Promise<void> {
    if (!Array.isArray(ids)) throw invalidInput('ids', ids, 'an array of fragment ids');
    if (!Number.isFinite(weight)) throw invalidInput('weight', weight, 'a finite number');
    for (const id of ids) {
      const index = this.byId.get(id);
      const doc = index === undefined ? undefined : this.docs[index];
      if (doc) doc.reinforcement += weight;
    }
  }
}
