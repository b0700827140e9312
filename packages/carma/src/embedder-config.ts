/** The embedder of the shared config's `carma.embedder` section. */
import type { AiosConfig } from '@aios/utils';
import type { RoleSetting } from './embedding-roles.js';
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
