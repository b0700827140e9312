import { fromNativeError, type ImplementationReport, invalidInput } from '@aios/utils';
import type { CarmaBinding } from '../binding.js';
import {
  checkBm25,
  checkDimension,
  checkDocuments,
  checkFloats,
  checkHnsw,
  checkK,
  checkKMeans,
  checkLabel,
  checkLabels,
  checkMetric,
  checkPath,
  checkText,
  checkTexts,
  checkVectorSearch,
} from './checks.js';
import {
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

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw fromNativeError(error);
  }
}

async function callAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw fromNativeError(error);
  }
}

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
    call(() => this.inner.add(labels, vectors));
  }
  async addAsync(labels: Uint32Array, vectors: Float32Array): Promise<void> {
    checkLabels(labels);
    checkFloats(vectors, 'vectors');
    return callAsync(() => this.inner.addAsync(labels, vectors));
  }
  remove(labels: Uint32Array): number {
    checkLabels(labels);
    return call(() => this.inner.remove(labels));
  }
  has(label: number): boolean {
    checkLabel(label);
    return call(() => this.inner.has(label));
  }
  get(label: number): Float32Array | null {
    checkLabel(label);
    return call(() => this.inner.get(label)) ?? null;
  }
  labels(): Uint32Array {
    return this.inner.labels();
  }
  search(queries: Float32Array, k: number, options: VectorSearchOptions = {}): Hits {
    checkK(k);
    checkFloats(queries, 'queries');
    const { filter, exact, ef } = checkVectorSearch(options);
    return call(() => this.inner.search(queries, k, filter, exact, ef));
  }
  setHnsw(params: HnswParams | null): void {
    const checked = params === null ? undefined : checkHnsw(params);
    call(() => this.inner.setHnsw(checked));
  }
  compact(): void {
    call(() => this.inner.compact());
  }
  async save(path: string): Promise<void> {
    checkPath(path);
    return callAsync(() => this.inner.save(path));
  }
}

class NativeLexicalWrapper implements LexicalIndex {
  constructor(private readonly inner: NativeLexical) {}
  get size(): number {
    return this.inner.size;
  }
  has(label: number): boolean {
    checkLabel(label);
    return call(() => this.inner.has(label));
  }
  add(labels: Uint32Array, texts: string[]): void {
    checkDocuments(labels, texts);
    call(() => this.inner.add(labels, texts));
  }
  remove(labels: Uint32Array): number {
    checkLabels(labels);
    return call(() => this.inner.remove(labels));
  }
  idf(terms: string[]): Float64Array {
    checkTexts(terms, 'terms');
    return call(() => this.inner.idf(terms));
  }
  search(query: string, k: number, filter?: Uint32Array): Hits {
    checkText(query, 'query');
    checkK(k);
    if (filter !== undefined) checkLabels(filter, 'filter');
    return call(() => this.inner.search(query, k, filter));
  }
  prepareQuery(query: string, dimension?: number): PreparedQuery {
    checkText(query, 'query');
    if (dimension !== undefined) checkDimension(dimension);
    const { terms, vector } = call(() => this.inner.prepareQuery(query, dimension));
    return vector ? { terms, vector } : { terms };
  }
  searchTerms(terms: Uint32Array, k: number, filter?: Uint32Array): Hits {
    checkLabels(terms, 'terms');
    checkK(k);
    if (filter !== undefined) checkLabels(filter, 'filter');
    return call(() => this.inner.searchTerms(terms, k, filter));
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
    tokenize: (text) => call(() => binding.tokenize(checkText(text))),
    embed(texts, dimension) {
      checkTexts(texts);
      checkDimension(dimension);
      return call(() => binding.embed(texts, dimension));
    },
    embedWeighted(text, dimension, tokenWeights) {
      checkText(text);
      checkDimension(dimension);
      if (!(tokenWeights instanceof Float64Array)) {
        throw invalidInput('tokenWeights', tokenWeights, 'a Float64Array');
      }
      return call(() => binding.embedWeighted(text, dimension, tokenWeights));
    },
    async embedAsync(texts, dimension) {
      checkTexts(texts);
      checkDimension(dimension);
      return callAsync(() => binding.embedAsync(texts, dimension));
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
        call(() => new binding.NativeVectorIndex(dimension, metric, params)),
      );
    },
    async loadVectorIndex(path) {
      checkPath(path);
      return new NativeVectorIndexWrapper(
        await callAsync(() => binding.NativeVectorIndex.load(path)),
      );
    },
    async kmeans(data, dimension, k, maxIter, seed) {
      checkKMeans(data, dimension, k, maxIter, seed);
      return callAsync(() => binding.kmeans(data, dimension, k, maxIter, seed));
    },
    createLexicalIndex(params: Bm25Params = DEFAULT_BM25) {
      const { k1, b } = checkBm25(params);
      return new NativeLexicalWrapper(call(() => new binding.NativeLexicalIndex(k1, b)));
    },
  };
}
