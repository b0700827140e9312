import { fromNativeError, type ImplementationReport, invalidInput } from '@aios/utils';
import type { CarmaBinding } from '../binding.js';
import { checkBm25, checkDimension } from './js/index.js';
import {
  type Bm25Params,
  type CarmaEngine,
  DEFAULT_BM25,
  type Hits,
  type HnswParams,
  type LexicalIndex,
  type Metric,
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
    call(() => this.inner.add(labels, vectors));
  }
  addAsync(labels: Uint32Array, vectors: Float32Array): Promise<void> {
    return callAsync(() => this.inner.addAsync(labels, vectors));
  }
  remove(labels: Uint32Array): number {
    return call(() => this.inner.remove(labels));
  }
  has(label: number): boolean {
    return this.inner.has(label);
  }
  get(label: number): Float32Array | null {
    return this.inner.get(label) ?? null;
  }
  labels(): Uint32Array {
    return this.inner.labels();
  }
  search(queries: Float32Array, k: number, options: VectorSearchOptions = {}): Hits {
    return call(() => this.inner.search(queries, k, options.filter, options.exact, options.ef));
  }
  setHnsw(params: HnswParams | null): void {
    call(() => this.inner.setHnsw(params ?? undefined));
  }
  compact(): void {
    call(() => this.inner.compact());
  }
  save(path: string): Promise<void> {
    return callAsync(() => this.inner.save(path));
  }
}

class NativeLexicalWrapper implements LexicalIndex {
  constructor(private readonly inner: NativeLexical) {}
  get size(): number {
    return this.inner.size;
  }
  has(label: number): boolean {
    return this.inner.has(label);
  }
  add(labels: Uint32Array, texts: string[]): void {
    call(() => this.inner.add(labels, texts));
  }
  remove(labels: Uint32Array): number {
    return call(() => this.inner.remove(labels));
  }
  idf(terms: string[]): Float64Array {
    return call(() => this.inner.idf(terms));
  }
  search(query: string, k: number, filter?: Uint32Array): Hits {
    return call(() => this.inner.search(query, k, filter));
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
    tokenize: (text) => call(() => binding.tokenize(text)),
    embed(texts, dimension) {
      checkDimension(dimension);
      return call(() => binding.embed(texts, dimension));
    },
    embedWeighted(text, dimension, tokenWeights) {
      checkDimension(dimension);
      return call(() => binding.embedWeighted(text, dimension, tokenWeights));
    },
    embedAsync(texts, dimension) {
      checkDimension(dimension);
      return callAsync(() => binding.embedAsync(texts, dimension));
    },
    createVectorIndex(
      dimension: number,
      metric: Metric = 'cosine',
      hnsw: HnswParams | null = null,
    ) {
      checkDimension(dimension);
      return new NativeVectorIndexWrapper(
        call(() => new binding.NativeVectorIndex(dimension, metric, hnsw ?? undefined)),
      );
    },
    async loadVectorIndex(path) {
      return new NativeVectorIndexWrapper(
        await callAsync(() => binding.NativeVectorIndex.load(path)),
      );
    },
    async kmeans(data, dimension, k, maxIter, seed) {
      if (!(data instanceof Float32Array)) throw invalidInput('data', data, 'a Float32Array');
      for (const [field, v] of [
        ['dimension', dimension],
        ['k', k],
        ['maxIter', maxIter],
        ['seed', seed],
      ] as const) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
          throw invalidInput(field, v, 'a u32 integer');
      }
      return callAsync(() => binding.kmeans(data, dimension, k, maxIter, seed));
    },
    createLexicalIndex(params: Bm25Params = DEFAULT_BM25) {
      checkBm25(params);
      return new NativeLexicalWrapper(
        call(() => new binding.NativeLexicalIndex(params.k1, params.b)),
      );
    },
  };
}
