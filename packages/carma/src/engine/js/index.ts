import type { ImplementationReport } from '@aios/utils';
import { invalidInput } from '@aios/utils';
import {
  type Bm25Params,
  type CarmaEngine,
  DEFAULT_BM25,
  type HnswParams,
  MAX_DIMENSION,
  type Metric,
} from '../types.js';
import { JsLexicalIndex } from './bm25.js';
import { kmeans } from './cluster.js';
import { embedBatch, embedInto } from './embed.js';
import { tokenize } from './text.js';
import { JsVectorIndex } from './vector.js';

export function checkDimension(dimension: number): void {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
    throw invalidInput('dimension', dimension, `an integer from 1 to ${MAX_DIMENSION}`);
  }
}

export function checkBm25(params: Bm25Params): void {
  if (
    !Number.isFinite(params.k1) ||
    params.k1 < 0 ||
    !Number.isFinite(params.b) ||
    params.b < 0 ||
    params.b > 1
  ) {
    throw invalidInput('bm25', `k1=${params.k1} b=${params.b}`, 'k1 >= 0 and b in [0, 1]');
  }
}

/** The js implementation of the engine. */
export function createJsEngine(report: ImplementationReport): CarmaEngine {
  return {
    implementation: 'js',
    report,
    tokenize,
    embed(texts, dimension) {
      checkDimension(dimension);
      return embedBatch(texts, dimension);
    },
    embedWeighted(text, dimension, tokenWeights) {
      checkDimension(dimension);
      const out = new Float32Array(dimension);
      embedInto(text, out, tokenWeights);
      return out;
    },
    async embedAsync(texts, dimension) {
      checkDimension(dimension);
      return embedBatch(texts, dimension);
    },
    createVectorIndex(
      dimension: number,
      metric: Metric = 'cosine',
      hnsw: HnswParams | null = null,
    ) {
      return new JsVectorIndex(dimension, metric, hnsw);
    },
    loadVectorIndex: (path) => JsVectorIndex.load(path),
    createLexicalIndex(params = DEFAULT_BM25) {
      checkBm25(params);
      return new JsLexicalIndex(params);
    },
    async kmeans(data, dimension, k, maxIter, seed) {
      return kmeans(data, dimension, k, maxIter, seed);
    },
  };
}
