/** Where a memory keeps its fragments, and bringing a memory up from its store. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AiosError, fromNodeIoError, makeDirSync, readOnlyRefusal } from '@aios/utils';
import { refuseMovedCheckpoint } from './checkpoint-moved.js';
import type { MemoryContext } from './context.js';
import { createDataFragmentStore } from './data-fragment-store.js';
import type { Embedder } from './embedder.js';
import { describeRoles, normalizeRoles, rolesKey } from './embedding-roles.js';
import type { LexicalIndex } from './engine/index.js';
import { CarmaErrorCode } from './errors.js';
import type { FragmentRecord, FragmentStore, StoreMeta } from './fragment-store.js';
import { type ChangesSince, changesSince } from './index-file-drift.js';
import { type LabelMap, labelMapPath, readLabelMap } from './label-map-file.js';
import {
  addTexts,
  adoptLexicalFile,
  hasLexicalFile,
  readLexicalFile,
} from './lexical-index-file.js';
import { MEMORY_DATABASE_FILE, type MemoryOptions } from './memory-types.js';
import { openFromCheckpoint } from './open-from-checkpoint.js';
import { reembedAll } from './reembed.js';
import { relabel, sharedLabels } from './relabel.js';
import { checkStoreLocation } from './validation.js';
import {
  adoptIndexFile,
  fillFromStore,
  type ReadIndexFile,
  readIndexFile,
  saveMissingLabelMap,
} from './vector-index-file.js';

/** Fragments in `data`, else in `<dir>/memory.db`, else in an in-memory database. */
export function defaultStore(options: MemoryOptions): FragmentStore {
  const { dir, data, native } = options;
  checkStoreLocation(data, dir);
  if (dir !== undefined) {
    try {
      makeDirSync(dir);
    } catch (error) {
      throw fromNodeIoError(error, dir);
    }
  }
  return createDataFragmentStore({
    ...(data
      ? { data }
      : { path: dir === undefined ? ':memory:' : join(dir, MEMORY_DATABASE_FILE) }),
    ...(dir === undefined ? {} : { indexDir: dir }),
    ...(native ? { native } : {}),
  });
}

/**
 * Opening with another embedder, dimension or query/document split than the vectors were
 * made with: they would not compare, so it is refused unless everything is re-embedded.
 */
function embedderMismatch(
  meta: StoreMeta,
  embedder: Embedder,
  hint = 'pass reembed: true',
): AiosError {
  const stored = `${meta.embedder} (dimension ${meta.dimension}; query/document split: ${describeRoles(meta.roles)})`;
  const requested = `${embedder.id} (dimension ${embedder.dimension ?? 'unknown'}; query/document split: ${describeRoles(embedder.roles)})`;
  return new AiosError(
    CarmaErrorCode.EMBEDDER_MISMATCH,
    `this memory was embedded with ${stored}; it was opened with ${requested}. ` +
      'Open it with the same embedder and split (the preset, query and document settings), ' +
      `or ${hint} to re-embed every fragment.`,
    {
      details: {
        stored: meta,
        requested: {
          embedder: embedder.id,
          dimension: embedder.dimension,
          roles: normalizeRoles(embedder.roles) ?? null,
        },
      },
    },
  );
}

/**
 * Where the vector index of an opened memory came from: its file (brought up to date),
 * the stored vectors (no file, or one that could not be trusted), a re-embedding, or
 * nowhere yet (nothing embedded).
 */
export type IndexOrigin = 'file' | 'store' | 'reembedded' | 'none';

/** Where the lexical index of an opened memory came from: its file, or the texts. */
export type LexicalOrigin = 'file' | 'texts';

/**
 * Whether the memory must be re-embedded to open (another embedder than its vectors were
 * made with, and `reembed` asked for; refused without it), with the index dimension set.
 */
function takeMeta(ctx: MemoryContext, meta: StoreMeta | undefined): boolean {
  const { embedder, indexes } = ctx;
  if (!meta) {
    indexes.dimension = embedder.dimension;
    return false;
  }
  let reembed = false;
  const dimensionDiffers =
    embedder.dimension !== undefined && embedder.dimension !== meta.dimension;
  const rolesDiffer = rolesKey(meta.roles) !== rolesKey(embedder.roles);
  if (meta.embedder !== embedder.id || dimensionDiffers || rolesDiffer) {
    if (!ctx.options.reembed) throw embedderMismatch(meta, embedder, ctx.options.reembedHint);
    const readOnly = ctx.store.readOnly;
    if (readOnly !== undefined) {
      throw readOnlyRefusal(
        ctx.store.location ?? 'this memory',
        'the memory',
        readOnly,
        `re-embedding every fragment with ${embedder.id}`,
      );
    }
    reembed = true;
  }
  indexes.dimension = reembed ? embedder.dimension : meta.dimension;
  ctx.files.checkpoint = meta.index;
  return reembed;
}

/**
 * What an empty store records at open: this memory's embedder, dimension and split, when
 * the dimension is known (a remote embedder's is known at its first answer: recorded then).
 */
function claimedMeta(ctx: MemoryContext): StoreMeta | undefined {
  const { embedder } = ctx;
  if (embedder.dimension === undefined) return undefined;
  const roles = normalizeRoles(embedder.roles);
  return {
    embedder: embedder.id,
    dimension: embedder.dimension,
    ...(roles ? { roles } : {}),
    metric: 'cosine',
    nextLabel: 0,
  };
}

/**
 * Reads every fragment into the memory's state and builds the indexes: the lexical one
 * from its file when the checkpoint has one that can be trusted, else from the texts; the
 * vector one from its file when that can be trusted, else from the stored vectors, or by
 * re-embedding everything when the embedder changed (and that was asked for).
 *
 * Natively the reads overlap: the index files load on the libuv pool while the store
 * reads the fragments (on the pool as well) and the JS thread decodes them.
 */
export async function loadMemory(
  ctx: MemoryContext,
  /** Fail with `CheckpointMoved` when the checkpoint's files were replaced meanwhile. */
  options: { refuseMoved: boolean } = { refuseMoved: true },
): Promise<{ vectors: IndexOrigin; lexical: LexicalOrigin }> {
  const { fragments, indexes } = ctx;
  let reembed = false;
  let indexFile: Promise<ReadIndexFile | undefined> | undefined;
  let lexicalFile: Promise<LexicalIndex | undefined> | undefined;
  let labelMap: Promise<LabelMap | undefined> | undefined;
  // What changed since the checkpoint the files were written at: read once, for all.
  let since: ChangesSince | undefined;
  const stored = await ctx.store.open({
    claim: () => claimedMeta(ctx),
    meta(meta) {
      reembed = takeMeta(ctx, meta);
      if (!reembed && indexes.dimension !== undefined) {
        indexFile = readIndexFile(ctx);
        // Awaited below (a failure fails the open there); unhandled until then.
        indexFile.catch(() => undefined);
      }
      const checkpoint = ctx.files.checkpoint;
      if (checkpoint) since = changesSince(ctx, checkpoint);
      if (checkpoint && hasLexicalFile(ctx, checkpoint)) {
        lexicalFile = readLexicalFile(ctx, checkpoint);
        lexicalFile.catch(() => undefined); // awaited below, like the index file
        const mapPath = labelMapPath(ctx, checkpoint.generation);
        if (indexFile && mapPath !== undefined && existsSync(mapPath)) {
          labelMap = readLabelMap(ctx, mapPath);
          // With all three files the records are read on demand (openFromCheckpoint).
          return { fragments: false };
        }
      }
      return undefined;
    },
  });
  const { seq, nextLabel, meta } = stored;
  ctx.follow.seq = seq;
  // A label is never handed out twice, even if the meta or counter lag behind.
  fragments.nextLabel = Math.max(meta?.nextLabel ?? 0, nextLabel);
  if (
    !stored.fragments &&
    (await openFromCheckpoint(ctx, {
      labelMap,
      vectors: indexFile,
      lexical: lexicalFile,
      since,
    }))
  ) {
    return { vectors: 'file', lexical: 'file' };
  }
  if (options.refuseMoved) {
    await refuseMovedCheckpoint(ctx, ctx.files.checkpoint, [indexFile, lexicalFile, labelMap]);
  }
  const records = stored.fragments ?? (await ctx.store.readAll());
  fragments.claimLabels(records.map((f) => f.label));
  const clashing = sharedLabels(records);
  if (clashing.length > 0) {
    await relabel(ctx, clashing);
    // The index file holds one vector per label: not those of every fragment that had it.
    ctx.files.checkpoint = undefined;
    indexFile = undefined;
    lexicalFile = undefined;
  }
  fragments.rememberAll(records);
  // Links to fragments deleted without their links being cleared (a crash in between).
  for (const f of records) {
    if (f.links.length > 0) f.links = f.links.filter((id) => fragments.byId.has(id));
  }
  const read = await lexicalFile;
  const adopted = read && since && (await adoptLexicalFile(ctx, read, since, records));
  if (adopted) indexes.lexical = adopted;
  else await addTexts(indexes.lexical, records);
  const lexicalOrigin: LexicalOrigin = adopted ? 'file' : 'texts';
  const vectors = await loadVectors(ctx, records, reembed, indexFile, since);
  // The checkpoint's files as they are, of a version without label maps: the next open
  // reads the records on demand.
  if (vectors === 'file' && lexicalOrigin === 'file') await saveMissingLabelMap(ctx);
  return { vectors, lexical: lexicalOrigin };
}

/** The vector half of `loadMemory`, once the fragments are in. */
async function loadVectors(
  ctx: MemoryContext,
  records: FragmentRecord[],
  reembed: boolean,
  indexFile: Promise<ReadIndexFile | undefined> | undefined,
  since: ChangesSince | undefined,
): Promise<IndexOrigin> {
  const { indexes } = ctx;
  if (reembed) {
    await reembedAll(ctx, records);
    return 'reembedded';
  }
  if (indexes.dimension === undefined) return 'none'; // remote embedder, nothing stored yet
  const read = await indexFile;
  const loaded = read && since && (await adoptIndexFile(ctx, read, since, records));
  if (loaded) {
    indexes.vectors = loaded;
  } else {
    indexes.vectors = ctx.engine.createVectorIndex(indexes.dimension, 'cosine', null);
    await fillFromStore(ctx, records, indexes.vectors);
  }
  indexes.maybeBuildGraph();
  return loaded ? 'file' : 'store';
}
