/** The embedder of the shared config's `carma.embedder` section. */
import type { AiosConfig } from '@aios/utils';
import { HASHING_EMBEDDER_ID } from './embedder.js';
import type { EmbeddingRoles, RoleSetting } from './embedding-roles.js';
import type { MemoryOptions } from './memory-types.js';
import { OpenAIEmbedder } from './openai.js';

export type EmbedderConfig = AiosConfig['carma']['embedder'];

/** A role's settings from the config's two keys; absent keys leave the preset's value. */
function roleSetting(prefix: string | undefined, inputType: string | undefined): RoleSetting {
  return {
    ...(prefix === undefined ? {} : { prefix }),
    ...(inputType === undefined ? {} : { inputType }),
  };
}

/**
 * The memory options that set its embedder from `carma.embedder`: a remote
 * OpenAI-compatible one (with its query/document split, request sizes and concurrency),
 * or the built-in one of that dimension.
 */
export function embedderOptionsFromConfig(
  e: EmbedderConfig,
): Pick<MemoryOptions, 'embedder' | 'dimension'> {
  if (e.provider !== 'openai') return { dimension: e.dimension };
  return {
    embedder: new OpenAIEmbedder({
      baseUrl: e.baseUrl,
      model: e.model,
      ...(e.apiKey ? { apiKey: e.apiKey } : {}),
      batchSize: e.batchSize,
      maxRequestChars: e.maxRequestChars,
      concurrency: e.concurrency,
      timeoutMs: e.timeoutMs,
      retries: e.maxRetries,
      preset: e.preset,
      query: roleSetting(e.queryPrefix, e.queryInputType),
      document: roleSetting(e.documentPrefix, e.documentInputType),
    }),
  };
}

/** What `carma.embedder` configures, for `aios status`: the embedder, its dimension, the split. */
export interface EmbedderSummary {
  /** The id recorded with the memory (`carma-hash-v1`, `openai:<baseUrl>#<model>`). */
  embedder: string;
  /** Null for a model: its first answer fixes it. */
  dimension: number | null;
  /** How queries and documents are embedded when they differ; null when alike. */
  roles: EmbeddingRoles | null;
}

export function summarizeEmbedderConfig(e: EmbedderConfig): EmbedderSummary {
  if (e.provider !== 'openai') {
    return { embedder: HASHING_EMBEDDER_ID, dimension: e.dimension, roles: null };
  }
  const embedder = embedderOptionsFromConfig(e).embedder as OpenAIEmbedder;
  return { embedder: embedder.id, dimension: null, roles: embedder.roles ?? null };
}
