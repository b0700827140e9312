/**
 * Checks of the arguments of every engine entry point, shared by the native and the js
 * implementation so that both refuse the same input with the same error. Each runs before
 * anything is computed or changed. (napi would otherwise convert numbers on its own:
 * 2.5 to 2, -1 to 4294967295, NaN to 0.) Checks of contents that cost a pass over the
 * data (finite vectors, distinct labels of a vector batch) stay in each implementation,
 * worded the same.
 */
import { AiosError, integerInRange, invalidInput, isIntegerInRange } from '@aios/utils';
import {
  type Bm25Params,
  type HnswParams,
  type LoadOptions,
  MAX_DIMENSION,
  MAX_EF,
  MAX_K,
  type Metric,
  NO_LABEL,
  type VectorSearchOptions,
} from './types.js';

export function checkDimension(dimension: unknown): number {
  return integerInRange(dimension, 'dimension', 1, MAX_DIMENSION);
}

export function checkK(k: unknown): number {
  return integerInRange(k, 'k', 1, MAX_K);
}

/** The `nearest` of `addAsync`'s options (0: none asked). */
export function checkAddOptions(options: unknown): number {
  if (typeof options !== 'object' || options === null) {
    throw invalidInput('options', options, 'an options object');
  }
  const { nearest } = options as { nearest?: unknown };
  return nearest === undefined ? 0 : integerInRange(nearest, 'nearest', 1, MAX_K);
}

/** The options of `loadVectorIndex` and `loadLexicalIndex`. */
export function checkLoadOptions(options: unknown): LoadOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidInput('options', options, 'an object with verified');
  }
  const { verified } = options as { verified?: unknown };
  if (verified !== undefined && typeof verified !== 'boolean') {
    throw invalidInput('verified', verified, 'a boolean');
  }
  return { verified: verified === true };
}

/** A label to look up: any u32. */
export function checkLabel(label: unknown): number {
  return integerInRange(label, 'label', 0, NO_LABEL);
}

export function checkMetric(metric: unknown): Metric {
  if (metric !== 'cosine' && metric !== 'dot') {
    throw invalidInput('metric', metric, '"cosine" or "dot"');
  }
  return metric;
}

export function checkHnsw(params: unknown): HnswParams {
  const p = (typeof params === 'object' && params !== null ? params : {}) as Partial<HnswParams>;
  if (
    !isIntegerInRange(p.m, 2, 256) ||
    !isIntegerInRange(p.efConstruction, 1, 100_000) ||
    !isIntegerInRange(p.seed, 0, 0xffff_ffff)
  ) {
    throw invalidInput(
      'hnsw',
      typeof params === 'object' && params !== null
        ? `m=${p.m} efConstruction=${p.efConstruction} seed=${p.seed}`
        : params,
      'm from 2 to 256, efConstruction from 1 to 100000, seed a u32',
    );
  }
  return { m: p.m, efConstruction: p.efConstruction, seed: p.seed };
}

export function checkBm25(params: unknown): Bm25Params {
  const p = (typeof params === 'object' && params !== null ? params : {}) as Partial<Bm25Params>;
  const { k1, b } = p;
  if (
    typeof k1 !== 'number' ||
    !Number.isFinite(k1) ||
    k1 < 0 ||
    typeof b !== 'number' ||
    !Number.isFinite(b) ||
    b < 0 ||
    b > 1
  ) {
    throw invalidInput('bm25', `k1=${k1} b=${b}`, 'k1 >= 0 and b in [0, 1]');
  }
  return { k1, b };
}

export function checkLabels(labels: unknown, field = 'labels'): Uint32Array {
  if (!(labels instanceof Uint32Array)) throw invalidInput(field, labels, 'a Uint32Array');
  return labels;
}

export function checkFloats(values: unknown, field: string): Float32Array {
  if (!(values instanceof Float32Array)) throw invalidInput(field, values, 'a Float32Array');
  return values;
}

export function checkText(text: unknown, field = 'text'): string {
  if (typeof text !== 'string') throw invalidInput(field, text, 'a string');
  return text;
}

export function checkTexts(texts: unknown, field = 'texts'): string[] {
  if (!Array.isArray(texts)) throw invalidInput(field, texts, 'an array of strings');
  texts.forEach((t, i) => {
    checkText(t, `${field}[${i}]`);
  });
  return texts;
}

export function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path === '') {
    throw invalidInput('path', path, 'a non-empty file path');
  }
  return path;
}

/** `search` options of a vector index. */
export function checkVectorSearch(options: unknown): VectorSearchOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidInput('options', options, 'an object with filter, exact or ef');
  }
  const { filter, exact, ef } = options as VectorSearchOptions;
  if (filter !== undefined) checkLabels(filter, 'filter');
  if (exact !== undefined && typeof exact !== 'boolean') {
    throw invalidInput('exact', exact, 'a boolean');
  }
  if (ef !== undefined) integerInRange(ef, 'ef', 1, MAX_EF);
  return options as VectorSearchOptions;
}

/** The documents of a lexical `add`: one text per label, each label once. */
export function checkDocuments(labels: unknown, texts: unknown): void {
  const ls = checkLabels(labels);
  const ts = checkTexts(texts);
  if (ls.length !== ts.length) {
    throw invalidInput('texts', ts, `${ls.length} texts (one per label)`);
  }
  if (new Set(ls).size !== ls.length) {
    throw invalidInput('labels', ls, 'distinct labels within one batch');
  }
}

/** The arguments of `kmeans`; returns the number of rows. */
export function checkKMeans(
  data: unknown,
  dimension: unknown,
  k: unknown,
  maxIter: unknown,
  seed: unknown,
): number {
  const rows = checkFloats(data, 'data');
  const dim = checkDimension(dimension);
  if (rows.length % dim !== 0) {
    throw new AiosError(
      'DIMENSION_MISMATCH',
      `data: expected a multiple of ${dim} floats, got ${rows.length}`,
    );
  }
  const n = rows.length / dim;
  if (!isIntegerInRange(k, 1, n)) {
    throw invalidInput('k', k, `an integer from 1 to the number of rows (${n})`);
  }
  integerInRange(maxIter, 'maxIter', 0, 0xffff_ffff);
  integerInRange(seed, 'seed', 0, 0xffff_ffff);
  if (!rows.every(Number.isFinite)) throw invalidInput('data', rows, 'finite numbers');
  return n;
}
