/** Putting fragments (their texts and stored vectors) into a memory's indexes. */
import { AiosError } from '@aios/utils';
import type { MemoryContext } from './context.js';
import { CarmaErrorCode } from './errors.js';
import type { FragmentRecord } from './fragment-store.js';

/** Adds the texts and stored vectors of these fragments to the indexes. */
export async function indexRecords(ctx: MemoryContext, records: FragmentRecord[]): Promise<void> {
  const { indexes } = ctx;
  const labels = Uint32Array.from(records, (f) => f.label);
  indexes.lexical.add(
    labels,
    records.map((f) => f.text),
  );
  const vectors = await ctx.store.vectors(records.map((f) => f.id));
  // A memory that had not embedded anything yet: the first vectors fix the dimension.
  const dim = indexes.dimension ?? vectors.find((v) => v !== undefined)?.length;
  if (dim === undefined) return;
  await indexes.addVectors(dim, labels, vectorMatrix(records, vectors, dim));
  indexes.maybeBuildGraph();
}

/**
 * The stored vectors of `records` (read in their order) as one row-major matrix; a
 * missing or wrong-sized one is a damaged store.
 */
export function vectorMatrix(
  records: readonly FragmentRecord[],
  vectors: ReadonlyArray<Float32Array | undefined>,
  dim: number,
): Float32Array {
  const matrix = new Float32Array(records.length * dim);
  records.forEach((f, i) => {
    const v = vectors[i];
    if (!v || v.length !== dim) {
      throw new AiosError(
        CarmaErrorCode.STORE_CORRUPT,
        `fragment ${f.id}: missing or wrong-sized vector (this memory's dimension is ${dim})`,
        { details: { id: f.id } },
      );
    }
    matrix.set(v, i * dim);
  });
  return matrix;
}
