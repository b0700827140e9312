import type { Aios } from '@aios/core';
import type { Static } from 'typebox';
import { apiError } from '../http/errors.js';
import type { EmbeddingList, EmbeddingsRequest } from './schemas.js';

/**
 * `POST /v1/embeddings` on CARMA's configured embedder (the one the tenant's memory
 * embeds its fragments with): texts are embedded as documents. Vectors come back as
 * numbers, or as base64 of little-endian float32 when `encoding_format` is `base64` (what
 * the official SDKs ask for by default). `dimensions` must be the embedder's own: CARMA's
 * vectors are not shortened.
 */
export async function embed(
  system: Aios,
  body: EmbeddingsRequest,
): Promise<Static<typeof EmbeddingList>> {
  const texts = typeof body.input === 'string' ? [body.input] : body.input;
  if (texts.length === 0) {
    throw apiError('INVALID_INPUT', 'input: at least one text is needed', { param: 'input' });
  }
  texts.forEach((text, i) => {
    if (typeof text !== 'string') {
      throw apiError('INVALID_INPUT', 'input: token arrays are not supported; send text', {
        param: typeof body.input === 'string' ? 'input' : `input[${i}]`,
      });
    }
    if (text === '') {
      throw apiError('INVALID_INPUT', 'input: an empty string cannot be embedded', {
        param: typeof body.input === 'string' ? 'input' : `input[${i}]`,
      });
    }
  });
  const strings = texts as string[];
  const embedder = system.memory.embedder;
  if (body.dimensions !== undefined && embedder.dimension !== undefined) {
    if (body.dimensions !== embedder.dimension) {
      throw apiError(
        'INVALID_INPUT',
        `dimensions: the embedder gives ${embedder.dimension} dimensions (got ${body.dimensions})`,
        { param: 'dimensions' },
      );
    }
  }
  const matrix = await embedder.embed(strings, 'document');
  const dimension = strings.length === 0 ? 0 : matrix.length / strings.length;
  const base64 = body.encoding_format === 'base64';
  const data = strings.map((_, index) => {
    const row = matrix.subarray(index * dimension, (index + 1) * dimension);
    return {
      object: 'embedding' as const,
      index,
      embedding: base64
        ? Buffer.from(Float32Array.from(row).buffer).toString('base64')
        : Array.from(row),
    };
  });
  const tokens = system.luna.tokenizer.countMany(strings).reduce((sum, n) => sum + n, 0);
  return {
    object: 'list',
    data,
    model: embedder.id,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
