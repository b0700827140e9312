import { callNative, type ImplementationReport, invalidInput } from '@aios/utils';
import type { CarmaBinding } from '../binding.js';
import {
  checkAddOptions,
  checkBm25,
  checkDimension,
  checkDocuments,
  checkFloats,
  checkHnsw,
  checkK,
  checkKMeans,
  checkLabel,
  checkLabels,
  checkLoadOptions,
  checkMetric,
  checkPath,
  checkText,
  checkTexts,
  checkVectorSearch,
} from './checks.js';
import {
  type AddOptions,
  type Bm25Params,
  type CarmaEngine,
  DEFAULT_BM25,
  type Hits,
  type HnswParams,
  type LexicalIndex,
  type Metric,
  type PreparedQuery,
  type VectorIndex,
  type VectorSearchOptions,
} from './types.js';

type NativeVector = InstanceType<CarmaBinding['NativeVectorIndex']>;
type NativeLexical = InstanceType<CarmaBinding['NativeLexicalIndex']>;

class NativeVectorIndexWrapper implements VectorIndex {
  constructor(private readonly inner: NativeVector) {}
  get dimension(): number {
    return this.inner.dimension;
  }
  get metric(): Metric {
    return this.inner.metric as Metric;
  }
  get size(): number {
    return this.inner.size;
  }
  get slots(): number {
    return this.inner.slots;
  }
  get hnsw(): HnswParams | null {
    return this.inner.hnsw ?? null;
  }
  add(labels: Uint32Array, vectors: Float32Array): void {
    checkLabels(labels);
    checkFloats(vectors, 'vectors');
    callNative(() => this.inner.add(labels, vectors));
  }
  async addAsync(
    labels: Uint32Array,
    vectors: Float32Array,
    options: AddOptions = {},
  ): Promise<Hits | null> {
    checkLabels(labels);
    checkFloats(vectors, 'vectors');
    const nearest = checkAddOptions(options);
    return callNative(() => this.inner.addAsync(labels, vectors, nearest || undefined));
  }
  remove(labels: Uint32Array): number {
    checkLabels(labels);
    return callNative(() => this.inner.remove(labels));
  }
  has(label: number): boolean {
    checkLabel(label);
    return callNative(() => this.inner.has(label));
  }
  get(label: number): Float32Array | null {
    checkLabel(label);
    return callNative(() => this.inner.get(label)) ?? null;
  }
  labels(): Uint32Array {
    return callNative(() => this.inner.labels());
  }
  search(queries: Float32Array, k: number, options: VectorSearchOptions = {}): Hits {
    checkK(k);
    checkFloats(queries, 'queries');
    const { filter, exact, ef } = checkVectorSearch(options);
    return callNative(() => this.inner.search(queries, k, filter, exact, ef));
  }
  async searchAsync(queries: Float32Array, k: number, options: VectorSearchOptions = {}) {
    checkK(k);
    checkFloats(queries, 'queries');
    const { filter, exact, ef } = checkVectorSearch(options);
    return callNative(() => this.inner.searchAsync(queries, k, filter, exact, ef));
  }
  setHnsw(params: HnswParams | null): void {
    const checked = params === null ? undefined : checkHnsw(params);
    callNative(() => this.inner.setHnsw(checked));
  }
  compact(): void {
    callNative(() => this.inner.compact());
  }
  async compactAsync(options: { signal?: AbortSignal; hnsw?: HnswParams } = {}): Promise<boolean> {
    const { signal } = options;
    const graph = options.hnsw === undefined ? undefined : checkHnsw(options.hnsw);
    if (signal?.aborted) return false;
    const stop = () => this.inner.stopCompaction();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      return await callNative(() => this.inner.compactAsync(graph));
    } finally {
      signal?.removeEventListener('abort', stop);
    }
  }
  async save(path: string): Promise<void> {
    checkPath(path);
    return callNative(() => this.inner.save(path));
  }
}

class NativeLexicalWrapper implements LexicalIndex {
  constructor(private readonly inner: NativeLexical) {}
  get size(): number {
    return this.inner.size;
  }
  get tokenizer(): number {
    return this.inner.tokenizer;
  }
  get params(): Bm25Params {
    return this.inner.params;
  }
  labels(): Uint32Array {
    return callNative(() => this.inner.labels());
  }
  has(label: number): boolean {
    checkLabel(label);
    return callNative(() => this.inner.has(label));
  }
  add(labels: Uint32Array, texts: string[]): void {
    checkDocuments(labels, texts);
    callNative(() => this.inner.add(labels, texts));
  }
  async addAsync(labels: Uint32Array, texts: string[]): Promise<void> {
    checkDocuments(labels, texts);
    return callNative(() => this.inner.addAsync(labels, texts));
  }
  remove(labels: Uint32Array, texts?: string[]): number {
    if (texts === undefined) {
      checkLabels(labels);
      return callNative(() => this.inner.remove(labels));
    }
    checkDocuments(labels, texts);
    return callNative(() => this.inner.removeTexts(labels, texts));
  }
  idf(terms: string[]): Float64Array {
    checkTexts(terms, 'terms');
    return callNative(() => this.inner.idf(terms));
  }
  search(query: string, k: number, filter?: Uint32Array): Hits {
    checkText(query, 'query');
    checkK(k);
    if (filter !== undefined) checkLabels(filter, 'filter');
    return callNative(() => this.inner.search(query, k, filter));
  }
  prepareQuery(query: string, dimension?: number): PreparedQuery {
    checkText(query, 'query');
    if (dimension !== undefined) checkDimension(dimension);
    const { terms, vector, idfMass } = callNative(() => this.inner.prepareQuery(query, dimension));
    return vector ? { terms, vector, idfMass } : { terms, idfMass };
  }
  searchTerms(terms: Uint32Array, k: number, filter?: Uint32Array): Hits {
    checkLabels(terms, 'terms');
    checkK(k);
    if (filter !== undefined) checkLabels(filter, 'filter');
    return callNative(() => this.inner.searchTerms(terms, k, filter));
  }
  async searchTermsAsync(terms: Uint32Array, k: number, filter?: Uint32Array): Promise<Hits> {
    checkLabels(terms, 'terms');
    checkK(k);
    if (filter !== undefined) checkLabels(filter, 'filter');
    return callNative(() => this.inner.searchTermsAsync(terms, k, filter));
  }
  async save(path: string): Promise<void> {
    checkPath(path);
    return callNative(() => this.inner.save(path));
  }
}

/** The native implementation: crates/carma through napi. */
export function createNativeEngine(
  binding: CarmaBinding,
  report: ImplementationReport,
): CarmaEngine {
  return {
    implementation: 'native',
    report,
    tokenize: (text) => callNative(() => binding.tokenize(checkText(text))),
    lexicalTokens: (text) => callNative(() => binding.lexicalTokens(checkText(text))),
    embed(texts, dimension) {
      checkTexts(texts);
      checkDimension(dimension);
      return callNative(() => binding.embed(texts, dimension));
    },
    embedWeighted(text, dimension, tokenWeights) {
      checkText(text);
      checkDimension(dimension);
      if (!(tokenWeights instanceof Float64Array)) {
        throw invalidInput('tokenWeights', tokenWeights, 'a Float64Array');
      }
      return callNative(() => binding.embedWeighted(text, dimension, tokenWeights));
    },
    async embedAsync(texts, dimension) {
      checkTexts(texts);
      checkDimension(dimension);
      return callNative(() => binding.embedAsync(texts, dimension));
    },
    createVectorIndex(
      dimension: number,
      metric: Metric = 'cosine',
      hnsw: HnswParams | null = null,
    ) {
      checkDimension(dimension);
      checkMetric(metric);
      const params = hnsw === null ? undefined : checkHnsw(hnsw);
      return new NativeVectorIndexWrapper(
        callNative(() => new binding.NativeVectorIndex(dimension, metric, params)),
      );
    },
    async loadVectorIndex(path, options) {
      checkPath(path);
      const { verified } = checkLoadOptions(options);
      return new NativeVectorIndexWrapper(
        await callNative(() => binding.NativeVectorIndex.load(path, verified)),
      );
    },
    async kmeans(data, dimension, k, maxIter, seed) {
      checkKMeans(data, dimension, k, maxIter, seed);
      return callNative(() => binding.kmeans(data, dimension, k, maxIter, seed));
    },
    createLexicalIndex(params: Bm25Params = DEFAULT_BM25) {
      const { k1, b } = checkBm25(params);
      return new NativeLexicalWrapper(callNative(() => new binding.NativeLexicalIndex(k1, b)));
    },
    async loadLexicalIndex(path, options) {
      checkPath(path);
      const { verified } = checkLoadOptions(options);
      return new NativeLexicalWrapper(
        await callNative(() => binding.NativeLexicalIndex.load(path, verified)),
      );
    },
    async fileBytes(path) {
      checkPath(path);
      return callNative(() => binding.mapFile(path));
    },
  };
}
