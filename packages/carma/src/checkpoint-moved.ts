/**
 * An open reads the checkpoint the store names, then its files. Another process may write
 * the next checkpoint in between, and it removes the files of the one before: the open
 * then finds them gone. Rather than rebuild its indexes from the database (seconds on a
 * large memory), it starts again from the newer checkpoint.
 */
import { existsSync } from 'node:fs';
import type { MemoryContext } from './context.js';
import type { IndexCheckpoint } from './fragment-store.js';
import { memoryLogger } from './memory-logger.js';
import { checkpointPaths } from './vector-index-file.js';

/** Thrown by an open whose checkpoint was replaced while it read it (see the module). */
export class CheckpointMoved extends Error {
  constructor(readonly from: number) {
    super(`the checkpoint of generation ${from} was replaced while it was read`);
  }
}

/**
 * Fails with `CheckpointMoved` when files of `checkpoint` are missing and the store names
 * another checkpoint now. Files missing with the checkpoint still named were removed by
 * something else: the open goes on without them (the vector index's absence is logged).
 * `reads` (the files' reads in progress) settle first: a read that found its file gone
 * must not be taken for one still on its way.
 */
export async function refuseMovedCheckpoint(
  ctx: MemoryContext,
  checkpoint: IndexCheckpoint | undefined,
  reads: ReadonlyArray<Promise<unknown> | undefined>,
): Promise<void> {
  if (!checkpoint) return;
  await Promise.allSettled(reads);
  const { generation } = checkpoint;
  const named = checkpointPaths(ctx, generation);
  const missing = named.filter((path) => !existsSync(path));
  if (missing.length === 0) return;
  const now = (await ctx.store.readMeta())?.index;
  if (now !== undefined && now.generation !== generation) throw new CheckpointMoved(generation);
  const [vectors] = named;
  if (vectors !== undefined && missing.includes(vectors)) {
    memoryLogger(ctx).warn(
      { file: vectors, code: 'IO_NOT_FOUND' },
      'the index file the store names is missing: rebuilt from the database',
    );
  }
}
