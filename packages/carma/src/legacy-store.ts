import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AiosError, fromNodeIoError } from '@aios/utils';
import { CarmaErrorCode } from './errors.js';
import type { FragmentChange, FragmentRecord, StoreMeta } from './store.js';

/**
 * The file format CARMA used before it kept its memory in @aios/data: a directory with a
 * snapshot (`CURRENT` naming generation g, `snapshot-<g>.json`, `vectors-<g>.f32`) and an
 * append-only log of the changes since (`log-<g>.jsonl`). Only read, to import it once.
 */
export interface LegacyStore {
  /** The snapshot generation: `index-<generation>.bin` beside the store matches it. */
  generation: number;
  meta: StoreMeta | undefined;
  fragments: FragmentRecord[];
  vectors: Map<string, Float32Array>;
  /** The histories in the snapshot, by fragment id (deleted fragments included). */
  histories: Map<string, FragmentChange[]>;
  /** The changes logged since the snapshot, in order (the index file lacks them). */
  logged: Array<{ fragmentId: string; change: FragmentChange }>;
}

interface Snapshot {
  format: 'carma-store-v1';
  generation: number;
  meta: StoreMeta | undefined;
  fragments: FragmentRecord[];
  history: Record<string, FragmentChange[]>;
}

type LogEntry =
  | {
      op: 'put';
      items: Array<{ fragment: FragmentRecord; vector: string; change: FragmentChange }>;
    }
  | { op: 'delete'; items: Array<{ id: string; change: FragmentChange }> }
  | { op: 'meta'; meta: StoreMeta };

function decodeVector(s: string): Float32Array {
  const bytes = Buffer.from(s, 'base64');
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

const corrupt = (message: string) => new AiosError(CarmaErrorCode.STORE_CORRUPT, message);

/** Whether `dir` holds a store in the old file format. */
export function isLegacyStore(dir: string): boolean {
  return existsSync(join(dir, 'CURRENT'));
}

/** Reads a store in the old file format: its snapshot, then the log replayed over it. */
export async function readLegacyStore(dir: string): Promise<LegacyStore> {
  const store: LegacyStore = {
    generation: 0,
    meta: undefined,
    fragments: [],
    vectors: new Map(),
    histories: new Map(),
    logged: [],
  };
  const currentPath = join(dir, 'CURRENT');
  let current: string;
  try {
    current = (await readFile(currentPath, 'utf8')).trim();
  } catch (error) {
    throw fromNodeIoError(error, currentPath);
  }
  const gen = Number(current);
  if (!Number.isInteger(gen) || gen < 1) throw corrupt(`${currentPath}: bad generation`);
  store.generation = gen;
  const fragments = new Map<string, FragmentRecord>();

  const snapPath = join(dir, `snapshot-${gen}.json`);
  let snap: Snapshot;
  let raw: Buffer;
  try {
    snap = JSON.parse(await readFile(snapPath, 'utf8')) as Snapshot;
    raw = await readFile(join(dir, `vectors-${gen}.f32`));
  } catch (error) {
    if (error instanceof SyntaxError) throw corrupt(`${snapPath}: ${error.message}`);
    throw fromNodeIoError(error, snapPath);
  }
  if (snap.format !== 'carma-store-v1') throw corrupt(`${snapPath}: unknown format`);
  store.meta = snap.meta;
  const dim = snap.meta?.dimension ?? 0;
  const floats = new Float32Array(raw.byteLength / 4);
  new Uint8Array(floats.buffer).set(raw);
  if (floats.length !== snap.fragments.length * dim) {
    throw corrupt(
      `vectors-${gen}.f32: expected ${snap.fragments.length} x ${dim} floats, got ${floats.length}`,
    );
  }
  snap.fragments.forEach((f, i) => {
    fragments.set(f.id, f);
    store.vectors.set(f.id, floats.slice(i * dim, (i + 1) * dim));
  });
  for (const [id, h] of Object.entries(snap.history)) store.histories.set(id, h);

  const logPath = join(dir, `log-${gen}.jsonl`);
  if (existsSync(logPath)) {
    const lines = (await readFile(logPath, 'utf8')).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.trim() === '') continue;
      let entry: LogEntry;
      try {
        entry = JSON.parse(line) as LogEntry;
      } catch {
        if (i >= lines.length - 2) break; // a torn final write
        throw corrupt(`${logPath}: bad line ${i + 1}`);
      }
      if (entry.op === 'meta') {
        store.meta = entry.meta;
      } else if (entry.op === 'put') {
        for (const { fragment, vector, change } of entry.items) {
          fragments.set(fragment.id, fragment);
          store.vectors.set(fragment.id, decodeVector(vector));
          store.logged.push({ fragmentId: fragment.id, change });
        }
      } else {
        for (const { id, change } of entry.items) {
          fragments.delete(id);
          store.vectors.delete(id);
          store.logged.push({ fragmentId: id, change });
        }
      }
    }
  }
  store.fragments = [...fragments.values()];
  return store;
}
