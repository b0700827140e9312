import { readFile } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ImplementationReport } from '@aios/utils';
import { fromNodeIoError, invalidInput } from '@aios/utils';
import {
  checkBm25,
  checkDimension,
  checkHnsw,
  checkLoadOptions,
  checkMetric,
  checkPath,
  checkText,
  checkTexts,
} from '../checks.js';
import { type CarmaEngine, DEFAULT_BM25, type HnswParams, type Metric } from '../types.js';
import { JsLexicalIndex } from './bm25.js';
import { kmeans } from './cluster.js';
import { embedBatch, embedInto } from './embed.js';
import { lexicalTokens, tokenize } from './text.js';
import { JsVectorIndex } from './vector.js';

/** Texts `embedAsync` embeds per turn of the event loop (about 4 ms). */
const EMBED_SLICE_TEXTS = 64;

/** The js implementation of the engine. */
export function createJsEngine(report: ImplementationReport): CarmaEngine {
  return {
    implementation: 'js',
    report,
    tokenize: (text) => tokenize(checkText(text)),
    lexicalTokens: (text) => lexicalTokens(checkText(text)),
    embed(texts, dimension) {
      checkTexts(texts);
      checkDimension(dimension);
      return embedBatch(texts, dimension);
    },
    embedWeighted(text, dimension, tokenWeights) {
      checkText(text);
      checkDimension(dimension);
      if (!(tokenWeights instanceof Float64Array)) {
        throw invalidInput('tokenWeights', tokenWeights, 'a Float64Array');
      }
      const out = new Float32Array(dimension);
      embedInto(text, out, tokenWeights);
      return out;
    },
    // One thread here: a slice of the texts at a time, the thread let go in between.
    async embedAsync(texts, dimension) {
      checkTexts(texts);
      checkDimension(dimension);
      const out = new Float32Array(texts.length * dimension);
      for (let i = 0; i < texts.length; i += EMBED_SLICE_TEXTS) {
        if (i > 0) await nextTurn();
        out.set(embedBatch(texts.slice(i, i + EMBED_SLICE_TEXTS), dimension), i * dimension);
      }
      return out;
    },
    createVectorIndex(
      dimension: number,
      metric: Metric = 'cosine',
      hnsw: HnswParams | null = null,
    ) {
      checkDimension(dimension);
      checkMetric(metric);
      if (hnsw !== null) checkHnsw(hnsw);
      return new JsVectorIndex(dimension, metric, hnsw);
    },
    async loadVectorIndex(path, options) {
      return JsVectorIndex.load(checkPath(path), checkLoadOptions(options));
    },
    createLexicalIndex(params = DEFAULT_BM25) {
      return new JsLexicalIndex(checkBm25(params));
    },
    async loadLexicalIndex(path, options) {
      return JsLexicalIndex.load(checkPath(path), checkLoadOptions(options));
    },
    async fileBytes(path) {
      checkPath(path);
      try {
        return await readFile(path);
      } catch (error) {
        throw fromNodeIoError(error, path);
      }
    },
    async kmeans(data, dimension, k, maxIter, seed) {
      return kmeans(data, dimension, k, maxIter, seed);
    },
  };
}
