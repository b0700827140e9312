/**
 * The record of a memory's own index file, kept beside it when the store is shared over
 * the network (PostgreSQL). Servers on one database each have a home of their own: a file
 * named in the shared meta by one of them is not in the others' homes. So there the
 * checkpoint (`index-<generation>.bin` and the seq it is up to date at) is recorded in
 * `<dir>/index.json`, with the store it belongs to, and each server opens from its own
 * file and catches up from its own seq. On SQLite the meta in the database keeps naming it
 * (the processes sharing a database file share its home as well).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '@aios/utils';
import type { IndexCheckpoint } from './fragment-store.js';

export const LOCAL_CHECKPOINT_FILE = 'index.json';

interface Recorded extends IndexCheckpoint {
  /** The store the file follows (its path or URL without password). */
  store: string;
}

/**
 * The checkpoint recorded in `dir` for `store`; undefined when there is none, it is not
 * readable, or it belongs to another store (then the index is built from the store).
 */
export function readLocalCheckpoint(dir: string, store: string): IndexCheckpoint | undefined {
  let recorded: Partial<Recorded>;
  try {
    recorded = JSON.parse(readFileSync(join(dir, LOCAL_CHECKPOINT_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (
    recorded?.store !== store ||
    !Number.isSafeInteger(recorded.generation) ||
    !Number.isSafeInteger(recorded.seq)
  ) {
    return undefined;
  }
  return { generation: recorded.generation as number, seq: recorded.seq as number };
}

/** The text `writeLocalCheckpoint` writes (compared to skip writing it again). */
export function localCheckpointText(checkpoint: IndexCheckpoint, store: string): string {
  const recorded: Recorded = { generation: checkpoint.generation, seq: checkpoint.seq, store };
  return `${JSON.stringify(recorded)}\n`;
}

/** Records the checkpoint in `dir`, atomically (a crash leaves the previous record). */
export async function writeLocalCheckpoint(dir: string, text: string): Promise<void> {
  await atomicWriteFile(join(dir, LOCAL_CHECKPOINT_FILE), text);
}
