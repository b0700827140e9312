/**
 * Checks of everything a caller hands the Memory API. Each parser checks its fields in
 * a fixed order, so the first problem reported for a bad call is always the same one.
 * Nothing here touches the memory's state.
 */
import type { DataStore } from '@aios/data';
import { AiosError, integerInRange, invalidInput, numberInRange } from '@aios/utils';
import { DEFAULT_HNSW, type HnswParams, MAX_EF, MAX_K } from './engine/index.js';
import { CarmaErrorCode } from './errors.js';
import { compileFilter, type Filter, type Predicate } from './filter.js';
import type { Metadata } from './fragment-store.js';
import {
  type ConsolidateOptions,
  DEFAULT_FUSION,
  DEFAULT_NAMESPACE,
  type FragmentInput,
  type FusionOptions,
  MAX_NAMESPACE_LENGTH,
  MAX_TEXT_LENGTH,
  type MemoryOptions,
  MODEL_LEXICAL_WEIGHT,
  type SearchMode,
  type SearchOptions,
} from './memory-types.js';

export function checkText(text: unknown, field = 'text'): string {
  if (typeof text !== 'string') throw invalidInput(field, text, 'a string');
  if (text.trim() === '') {
    throw new AiosError(CarmaErrorCode.TEXT_EMPTY, `${field}: expected non-empty text`, {
      details: { field },
    });
  }
  if (text.length > MAX_TEXT_LENGTH) {
    throw new AiosError(
      CarmaErrorCode.TEXT_TOO_LARGE,
      `${field}: ${text.length} characters, more than the ${MAX_TEXT_LENGTH} allowed (split it into fragments)`,
      { details: { field, length: text.length, max: MAX_TEXT_LENGTH } },
    );
  }
  return text;
}

export function checkNamespace(ns: unknown): string {
  if (ns === undefined) return DEFAULT_NAMESPACE;
  if (typeof ns !== 'string' || ns === '' || ns.length > MAX_NAMESPACE_LENGTH) {
    throw invalidInput(
      'namespace',
      ns,
      `a non-empty string of at most ${MAX_NAMESPACE_LENGTH} characters`,
    );
  }
  return ns;
}

/** A namespace option where undefined means "every namespace", not the default one. */
function checkOptionalNamespace(ns: unknown): string | undefined {
  return ns === undefined ? undefined : checkNamespace(ns);
}

export function checkUnit(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  return numberInRange(value, field, 0, 1);
}

export function checkMetadata(meta: unknown): Metadata {
  if (meta === undefined) return {};
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw invalidInput(
      'metadata',
      meta,
      'an object of strings, numbers, booleans, null or arrays of them',
    );
  }
  const ok = (v: unknown) =>
    v === null ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isFinite(v));
  for (const [key, value] of Object.entries(meta)) {
    if (!(ok(value) || (Array.isArray(value) && value.every((v) => v !== null && ok(v))))) {
      throw invalidInput(
        `metadata.${key}`,
        value,
        'a string, finite number, boolean, null or an array of them',
      );
    }
  }
  // A copy: the caller may go on changing its object.
  return structuredClone(meta as Metadata);
}

export function checkK(k: unknown): number {
  if (k === undefined) return 10;
  return integerInRange(k, 'k', 1, MAX_K);
}

export function checkId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw invalidInput('id', id, 'a fragment id');
  return id;
}

/** `data` and `dir` of `MemoryOptions`, checked before anything is created on disk. */
export function checkStoreLocation(data: DataStore | undefined, dir: string | undefined): void {
  if (
    data !== undefined &&
    (typeof data !== 'object' || data === null || !('fragments' in data) || !('meta' in data))
  ) {
    throw invalidInput('data', data, 'a DataStore from @aios/data (openDataStore)');
  }
  if (dir !== undefined && (typeof dir !== 'string' || dir === '')) {
    throw invalidInput('dir', dir, 'a directory path');
  }
}

/** A plain object, or INVALID_INPUT naming `field`. */
function checkObject(value: unknown, field: string, expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(field, value, expected);
  }
  return value as Record<string, unknown>;
}

/** Refuses keys an options object does not have (a misspelt option is not ignored). */
function checkKeys(obj: Record<string, unknown>, field: string, keys: readonly string[]): void {
  for (const [key, value] of Object.entries(obj)) {
    if (!keys.includes(key)) {
      const names = keys.length > 1 ? `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}` : keys[0];
      throw invalidInput(`${field}.${key}`, value, `an option of ${field} (${names})`);
    }
  }
}

/** A number from 0 to 1 that must be given. */
function checkWeight(value: unknown, field: string): number {
  if (value === undefined) throw invalidInput(field, value, 'a number from 0 to 1');
  return checkUnit(value, field, 0);
}

const FUSION_KEYS = ['method', 'lexicalWeight', 'rrfK'] as const;

/** `base` with the fields `option` sets (each checked) over it. */
function mergeFusion(base: FusionOptions, option: unknown): FusionOptions {
  const obj = checkObject(option, 'fusion', 'an object with method, lexicalWeight or rrfK');
  checkKeys(obj, 'fusion', FUSION_KEYS);
  const fusion = { ...base };
  const { method, lexicalWeight, rrfK } = obj;
  if (method !== undefined) {
    if (method !== 'adaptive' && method !== 'weighted' && method !== 'rrf') {
      throw invalidInput('fusion.method', method, '"adaptive", "weighted" or "rrf"');
    }
    fusion.method = method;
  }
  if (lexicalWeight !== undefined) {
    fusion.lexicalWeight = checkUnit(lexicalWeight, 'fusion.lexicalWeight', 0);
  }
  if (rrfK !== undefined) {
    if (typeof rrfK !== 'number' || !Number.isFinite(rrfK) || rrfK < 0) {
      throw invalidInput('fusion.rrfK', rrfK, 'a finite number >= 0');
    }
    fusion.rrfK = rrfK;
  }
  return fusion;
}

/**
 * The memory's fusion settings: the defaults (BM25's weight depends on whether the
 * embedder is the built-in one or a model) with `option` over them.
 */
export function resolveFusion(
  option: Partial<FusionOptions> | undefined,
  builtinEmbedder = true,
): FusionOptions {
  const defaults = builtinEmbedder
    ? { ...DEFAULT_FUSION }
    : { ...DEFAULT_FUSION, lexicalWeight: MODEL_LEXICAL_WEIGHT };
  return option === undefined ? defaults : mergeFusion(defaults, option);
}

/** The memory options that tune search and checkpoints, checked when it opens. */
export function checkMemoryOptions(options: MemoryOptions): void {
  if (options.efSearch !== undefined) integerInRange(options.efSearch, 'efSearch', 1, MAX_EF);
  if (options.checkpointEvery !== undefined) {
    integerInRange(options.checkpointEvery, 'checkpointEvery', 1, Number.MAX_SAFE_INTEGER);
  }
  if (options.deferCheckpointFrom !== undefined) {
    integerInRange(options.deferCheckpointFrom, 'deferCheckpointFrom', 0, Number.MAX_SAFE_INTEGER);
  }
  if (options.replayLimit !== undefined) {
    integerInRange(options.replayLimit, 'replayLimit', 0, Number.MAX_SAFE_INTEGER);
  }
}

/** The graph policy: `auto` (by size), null (exact search only) or fixed parameters. */
export function hnswParams(option: MemoryOptions['hnsw']): HnswParams | null | 'auto' {
  if (option === undefined || option === 'auto') return 'auto';
  if (option === false) return null;
  if (option === true) return { ...DEFAULT_HNSW };
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw invalidInput('hnsw', option, "'auto', true, false or { m, efConstruction, seed }");
  }
  const params = { ...DEFAULT_HNSW, ...option };
  integerInRange(params.m, 'hnsw.m', 2, 256);
  integerInRange(params.efConstruction, 'hnsw.efConstruction', 1, 100_000);
  integerInRange(params.seed, 'hnsw.seed', 0, 0xffff_ffff);
  return params;
}

/** A fragment to add, with its defaults filled in. */
export interface ParsedInput {
  text: string;
  namespace: string;
  metadata: Metadata;
  importance: number;
  core: boolean;
  /** Given times (see `FragmentInput`); the add's time stands for those left out. */
  createdAt?: number;
  updatedAt?: number;
}

/** A time given with an input: ms since the epoch, a whole number. */
function checkTime(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidInput(field, value, 'a time in milliseconds since 1970 (a whole number)');
  }
  return value;
}

/** The inputs of `addMany`, all checked before any is stored. */
export function parseFragmentInputs(inputs: unknown): ParsedInput[] {
  if (!Array.isArray(inputs)) throw invalidInput('inputs', inputs, 'an array of fragments');
  return inputs.map((raw: FragmentInput | string, i) => {
    const input = typeof raw === 'string' ? { text: raw } : raw;
    if (input === null || typeof input !== 'object') {
      throw invalidInput(
        `inputs[${i}]`,
        raw,
        'a string or { text, namespace?, metadata?, importance?, core?, createdAt?, updatedAt? }',
      );
    }
    const field = (name: string) => (inputs.length === 1 ? name : `inputs[${i}].${name}`);
    const text = checkText(input.text, field('text'));
    const createdAt = checkTime(input.createdAt, field('createdAt'));
    const updatedAt = checkTime(input.updatedAt, field('updatedAt'));
    if (createdAt !== undefined && updatedAt !== undefined && updatedAt < createdAt) {
      throw invalidInput(
        field('updatedAt'),
        updatedAt,
        `a time not before createdAt (${createdAt})`,
      );
    }
    return {
      text,
      namespace: checkNamespace(input.namespace),
      metadata: checkMetadata(input.metadata),
      importance: checkUnit(input.importance, 'importance', 0.5),
      core: input.core === undefined ? false : Boolean(input.core),
      ...(createdAt === undefined ? {} : { createdAt }),
      ...(updatedAt === undefined ? {} : { updatedAt }),
    };
  });
}

export interface UpdatePatch {
  text?: string;
  metadata?: Metadata;
  importance?: number;
  core?: boolean;
}

/** The fields of an update patch; `importance` falls back to the fragment's own. */
export function parseUpdatePatch(
  patch: unknown,
  currentImportance: number,
): { text: string | undefined; metadata: Metadata | undefined; importance: number } {
  if (patch === null || typeof patch !== 'object') {
    throw invalidInput('patch', patch, 'an object with text, metadata, importance or core');
  }
  const p = patch as UpdatePatch;
  const text = p.text === undefined ? undefined : checkText(p.text);
  const metadata = p.metadata === undefined ? undefined : checkMetadata(p.metadata);
  const importance = checkUnit(p.importance, 'importance', currentImportance);
  return { text, metadata, importance };
}

/** The ids and amount of `reinforce`. */
export function parseReinforce(ids: unknown, amount: unknown): string[] {
  const list = typeof ids === 'string' ? [ids] : ids;
  if (!Array.isArray(list)) throw invalidInput('ids', ids, 'a fragment id or an array of ids');
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < -1 || amount > 1) {
    throw invalidInput('amount', amount, 'a number from -1 to 1');
  }
  return list;
}

/** A search's options resolved against the memory's fusion settings. */
export interface ParsedSearch {
  k: number;
  mode: SearchMode;
  namespace: string | undefined;
  filter: Filter | undefined;
  predicate: Predicate | undefined;
  fusion: FusionOptions;
  recency: SearchOptions['recency'];
  importance: SearchOptions['importance'];
  explain: boolean;
  exact: boolean;
}

export function parseSearch(
  query: unknown,
  options: SearchOptions,
  memoryFusion: FusionOptions,
): ParsedSearch {
  checkText(query, 'query');
  checkObject(options, 'options', 'an object');
  const k = checkK(options.k);
  const mode = options.mode ?? 'hybrid';
  if (mode !== 'hybrid' && mode !== 'vector' && mode !== 'lexical') {
    throw invalidInput('mode', mode, '"hybrid", "vector" or "lexical"');
  }
  const namespace = checkOptionalNamespace(options.namespace);
  const predicate = compileFilter(options.filter);
  const fusion =
    options.fusion === undefined ? memoryFusion : mergeFusion(memoryFusion, options.fusion);
  let recency: SearchOptions['recency'];
  if (options.recency !== undefined) {
    const r = checkObject(options.recency, 'recency', 'an object { weight, halfLifeMs }');
    checkKeys(r, 'recency', ['weight', 'halfLifeMs']);
    const weight = checkWeight(r.weight, 'recency.weight');
    const { halfLifeMs } = r;
    if (!(typeof halfLifeMs === 'number' && halfLifeMs > 0 && Number.isFinite(halfLifeMs))) {
      throw invalidInput('recency.halfLifeMs', halfLifeMs, 'a positive number of milliseconds');
    }
    recency = { weight, halfLifeMs };
  }
  let importance: SearchOptions['importance'];
  if (options.importance !== undefined) {
    const i = checkObject(options.importance, 'importance', 'an object { weight }');
    checkKeys(i, 'importance', ['weight']);
    importance = { weight: checkWeight(i.weight, 'importance.weight') };
  }
  return {
    k,
    mode,
    namespace,
    filter: options.filter,
    predicate,
    fusion,
    recency,
    importance,
    explain: checkFlag(options.explain, 'explain'),
    exact: checkFlag(options.exact, 'exact'),
  };
}

/** An optional boolean option, false when not given. */
function checkFlag(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidInput(field, value, 'true or false');
  return value;
}

/** Consolidation thresholds and limits; `namespace` undefined means every namespace. */
export interface ParsedConsolidation {
  mergeThreshold: number;
  linkThreshold: number;
  maxLinks: number;
  clusters: number | undefined;
  namespace: string | undefined;
  seed: number | undefined;
  onProgress: ConsolidateOptions['onProgress'];
}

export function parseConsolidation(
  options: ConsolidateOptions,
  nearDuplicateThreshold: number | undefined,
): ParsedConsolidation {
  const mergeThreshold = checkUnit(
    options.mergeThreshold,
    'mergeThreshold',
    Math.min(1, nearDuplicateThreshold ?? 0.95),
  );
  const linkThreshold = checkUnit(options.linkThreshold, 'linkThreshold', 0.75);
  const maxLinks = options.maxLinks ?? 5;
  if (!Number.isInteger(maxLinks) || maxLinks < 0 || maxLinks > 100) {
    throw invalidInput('maxLinks', maxLinks, 'an integer from 0 to 100');
  }
  if (
    options.clusters !== undefined &&
    (!Number.isInteger(options.clusters) || options.clusters < 1)
  ) {
    throw invalidInput('clusters', options.clusters, 'a positive integer');
  }
  if (options.seed !== undefined) integerInRange(options.seed, 'seed', 0, 0xffff_ffff);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw invalidInput('onProgress', options.onProgress, 'a function');
  }
  return {
    mergeThreshold,
    linkThreshold,
    maxLinks,
    clusters: options.clusters,
    namespace: checkOptionalNamespace(options.namespace),
    seed: options.seed,
    onProgress: options.onProgress,
  };
}
