/** Calling the embedder, and refusing what a misbehaving one returns. */
import { AiosError, describeValue } from '@aios/utils';
import type { MemoryContext } from './context.js';
import type { EmbedRole } from './embedding-roles.js';
import { CarmaErrorCode } from './errors.js';

/**
 * One row per text, checked for shape, dimension and finite values. The first answer of
 * an embedder whose dimension was unknown fixes the memory's dimension. Fragments are
 * embedded as documents, search text as a query.
 */
export async function embedChecked(
  ctx: MemoryContext,
  texts: string[],
  role: EmbedRole = 'document',
): Promise<Float32Array> {
  const { embedder, indexes } = ctx;
  const matrix = await embedder.embed(texts, role);
  const dim = embedder.dimension;
  if (
    dim === undefined ||
    !(matrix instanceof Float32Array) ||
    matrix.length !== texts.length * dim
  ) {
    throw new AiosError(
      CarmaErrorCode.EMBEDDER_FAILED,
      `embedder ${embedder.id} returned ${describeValue(matrix)} for ${texts.length} texts of dimension ${dim}`,
    );
  }
  if (indexes.dimension !== undefined && dim !== indexes.dimension) {
    throw new AiosError(
      CarmaErrorCode.DIMENSION_MISMATCH,
      `embedder ${embedder.id} returned dimension ${dim}; this memory's index has dimension ${indexes.dimension}`,
      { details: { expected: indexes.dimension, got: dim } },
    );
  }
  for (let i = 0; i < matrix.length; i++) {
    if (!Number.isFinite(matrix[i])) {
      throw new AiosError(
        CarmaErrorCode.EMBEDDER_FAILED,
        `embedder ${embedder.id} returned a non-finite value`,
      );
    }
  }
  // The first vectors of a remote embedder fix the dimension (the meta is written with the
  // first add).
  indexes.fixDimension(dim);
  return matrix;
}
