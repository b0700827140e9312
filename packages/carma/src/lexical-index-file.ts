/**
 * The lexical index file, `lexical-<generation>.bin` beside `index-<generation>.bin`: the
 * BM25 index of the same checkpoint (written by `checkpointNow` with it), so that opening
 * reads the postings instead of tokenizing every text again. Like the vector index file it
 * is a cache of the store: brought up to date with the changes recorded since, and when it
 * is missing, damaged or describes another state, the index is built from the texts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isAiosError } from '@aios/utils';
import { loadChecked } from './checked-files.js';
import type { MemoryContext } from './context.js';
import { DEFAULT_BM25, LEXICAL_TOKENIZER, type LexicalIndex } from './engine/index.js';
import type { FragmentRecord, IndexCheckpoint } from './fragment-store.js';
import { type ChangesSince, drift } from './index-file-drift.js';
import { memoryLogger } from './memory-logger.js';

/** Texts tokenized per call while a lexical index is built or brought up to date. */
const ADD_PAGE = 5000;

/** The lexical file of a checkpoint, when the memory has a directory. */
export function lexicalPath(ctx: MemoryContext, generation: number): string | undefined {
  return ctx.options.dir === undefined
    ? undefined
    : join(ctx.options.dir, `lexical-${generation}.bin`);
}

/** Whether the checkpoint named in the store has a lexical file (opening then reads it). */
export function hasLexicalFile(ctx: MemoryContext, checkpoint: IndexCheckpoint): boolean {
  const path = lexicalPath(ctx, checkpoint.generation);
  return path !== undefined && existsSync(path);
}

/**
 * Reads the lexical file of `checkpoint`: undefined when it cannot be trusted (logged), was
 * written with other BM25 parameters than the memory's, or holds the terms of an earlier
 * tokenizer (runs of CJK characters whole: the index is built from the texts once, and the
 * next checkpoint writes the file again).
 */
export async function readLexicalFile(
  ctx: MemoryContext,
  checkpoint: IndexCheckpoint,
): Promise<LexicalIndex | undefined> {
  const path = lexicalPath(ctx, checkpoint.generation) as string;
  let index: LexicalIndex;
  try {
    index = await loadChecked(
      path,
      (verified) => ctx.engine.loadLexicalIndex(path, { verified }),
      ctx.store.readOnly === undefined,
    );
  } catch (error) {
    // Gone since it was named: replaced by another process's checkpoint (checkpoint-moved.ts).
    if (isAiosError(error) && error.code === 'IO_NOT_FOUND') return undefined;
    memoryLogger(ctx).warn(
      {
        file: path,
        code: isAiosError(error) ? error.code : 'UNEXPECTED',
        reason: error instanceof Error ? error.message : String(error),
      },
      'the lexical index file cannot be trusted: rebuilt from the texts',
    );
    return undefined;
  }
  const wanted = ctx.options.bm25 ?? DEFAULT_BM25;
  const { k1, b } = index.params;
  if (index.tokenizer !== LEXICAL_TOKENIZER) {
    memoryLogger(ctx).warn(
      { file: path, tokenizer: index.tokenizer },
      'the lexical index file holds the terms of an earlier version (CJK runs whole): rebuilt from the texts, and written again by the next checkpoint',
    );
    ctx.files.outdated = true;
    return undefined;
  }
  return k1 === wanted.k1 && b === wanted.b ? index : undefined;
}

/**
 * A read lexical file brought up to date with the store: the fragments deleted since
 * dropped, those changed since (or missing from it) added again. Undefined when the
 * store's history is behind the file's (a restored database).
 */
export async function adoptLexicalFile(
  ctx: MemoryContext,
  index: LexicalIndex,
  since: ChangesSince,
  records: FragmentRecord[],
): Promise<LexicalIndex | undefined> {
  const changed = await since();
  if (!changed) return undefined;
  const { stale, todo } = drift(ctx, index.labels(), changed, records);
  if (stale.length > 0) index.remove(stale);
  await addTexts(index, todo);
  return index;
}

/** Adds the texts of `records` to `index`, a page at a time. */
export async function addTexts(index: LexicalIndex, records: FragmentRecord[]): Promise<void> {
  for (let at = 0; at < records.length; at += ADD_PAGE) {
    const page = records.slice(at, at + ADD_PAGE);
    await index.addAsync(
      Uint32Array.from(page, (f) => f.label),
      page.map((f) => f.text),
    );
  }
}
