import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AiosError, fromNodeIoError } from '@aios/utils';
import { CarmaErrorCode } from './errors.js';

export type MetadataValue = string | number | boolean | null | Array<string | number | boolean>;
export type Metadata = Record<string, MetadataValue>;

/** A memory fragment as CARMA stores it. */
export interface FragmentRecord {
  id: string;
  /** Index label (u32), stable for the life of the fragment. */
  label: number;
  namespace: string;
  text: string;
  /** BLAKE3 hex of the text: identical texts in one namespace are stored once. */
  contentHash: string;
  metadata: Metadata;
  /** 0 to 1; reinforcement raises it. */
  importance: number;
  /** Core memories are exempt from recency decay. */
  core: boolean;
  createdAt: number;
  updatedAt: number;
  accessedAt: number;
  accessCount: number;
  reinforcements: number;
  version: number;
  /**
   * Provenance: ids of fragments merged into this one by consolidation, or content hashes
   * of near-duplicate texts merged in on add (they were never stored on their own).
   */
  mergedFrom: string[];
  /** Related fragments (consolidation). */
  links: string[];
}

export type ChangeKind = 'add' | 'update' | 'delete' | 'reinforce' | 'merge' | 'link';

/** One entry of a fragment's history: what it was after the change. */
export interface FragmentChange {
  version: number;
  kind: ChangeKind;
  at: number;
  text: string;
  metadata: Metadata;
  importance: number;
  /** Free-form detail (e.g. the ids merged in). */
  note?: string;
}

/** What the store records about the index it feeds. */
export interface StoreMeta {
  embedder: string;
  dimension: number;
  metric: 'cosine' | 'dot';
  nextLabel: number;
}

/**
 * The narrow persistence CARMA needs: fragments with their vectors and full history, by
 * namespace. `createFileFragmentStore` implements it with files; a later implementation
 * backs it with @aios/data.
 */
export interface FragmentStore {
  /** Where it lives (a directory), or undefined when in memory only. */
  readonly location: string | undefined;
  /** Loads everything; returns the meta recorded by `setMeta`, if any. */
  open(): Promise<StoreMeta | undefined>;
  setMeta(meta: StoreMeta): Promise<void>;
  /** Adds or replaces fragments (with their vectors), appending `change` to each history. */
  put(
    items: Array<{ fragment: FragmentRecord; vector: Float32Array; change: FragmentChange }>,
  ): Promise<void>;
  /** Deletes fragments; their history is kept. */
  delete(items: Array<{ id: string; change: FragmentChange }>): Promise<void>;
  get(id: string): FragmentRecord | undefined;
  vector(id: string): Float32Array | undefined;
  list(namespace?: string): FragmentRecord[];
  history(id: string): FragmentChange[];
  /** Updates access statistics without a history entry; persisted at the next checkpoint. */
  touch(fragment: FragmentRecord): void;
  /** Snapshot generation, bumped by each `checkpoint`. */
  readonly generation: number;
  /** Ids changed since the last checkpoint (replayed from the log on open). */
  readonly dirty: ReadonlySet<string>;
  /** Writes a compact snapshot atomically and starts a new log; returns the generation. */
  checkpoint(): Promise<number>;
  close(): Promise<void>;
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

function encodeVector(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

function decodeVector(s: string): Float32Array {
  const bytes = Buffer.from(s, 'base64');
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, path);
  } catch (error) {
    throw fromNodeIoError(error, path);
  }
}

/**
 * Fragments in a directory: a snapshot (`snapshot-<g>.json` + `vectors-<g>.f32`, written
 * to temporary files and renamed, then committed by renaming `CURRENT`) plus an
 * append-only log (`log-<g>.jsonl`) of the changes since. Opening loads the snapshot and
 * replays the log; a torn last line (crash mid-write) is ignored. With no directory, the
 * store lives in memory only.
 */
export class FileFragmentStore implements FragmentStore {
  private fragments = new Map<string, FragmentRecord>();
  private vectors = new Map<string, Float32Array>();
  private histories = new Map<string, FragmentChange[]>();
  private meta: StoreMeta | undefined;
  private gen = 0;
  private logFd: number | undefined;
  private logEntries = 0;
  private readonly changed = new Set<string>();

  constructor(readonly location: string | undefined) {}

  get generation(): number {
    return this.gen;
  }
  get dirty(): ReadonlySet<string> {
    return this.changed;
  }
  /** Log entries since the last checkpoint. */
  get pendingEntries(): number {
    return this.logEntries;
  }

  private path(name: string): string {
    return join(this.location as string, name);
  }

  async open(): Promise<StoreMeta | undefined> {
    const dir = this.location;
    if (dir === undefined) return undefined;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw fromNodeIoError(error, dir);
    }
    const currentPath = this.path('CURRENT');
    if (existsSync(currentPath)) {
      const current = (await readFile(currentPath, 'utf8')).trim();
      const gen = Number(current);
      if (!Number.isInteger(gen) || gen < 1) {
        throw new AiosError(CarmaErrorCode.STORE_CORRUPT, `${currentPath}: bad generation`);
      }
      this.gen = gen;
      await this.loadSnapshot(gen);
      await this.replayLog(gen);
    }
    try {
      this.logFd = openSync(this.path(`log-${this.gen}.jsonl`), 'a');
    } catch (error) {
      throw fromNodeIoError(error, dir);
    }
    return this.meta;
  }

  private async loadSnapshot(gen: number): Promise<void> {
    const snapPath = this.path(`snapshot-${gen}.json`);
    let snap: Snapshot;
    let raw: Buffer;
    try {
      snap = JSON.parse(await readFile(snapPath, 'utf8')) as Snapshot;
      raw = await readFile(this.path(`vectors-${gen}.f32`));
    } catch (error) {
      if (error instanceof SyntaxError) {
        throw new AiosError(CarmaErrorCode.STORE_CORRUPT, `${snapPath}: ${error.message}`);
      }
      throw fromNodeIoError(error, snapPath);
    }
    if (snap.format !== 'carma-store-v1') {
      throw new AiosError(CarmaErrorCode.STORE_CORRUPT, `${snapPath}: unknown format`);
    }
    this.meta = snap.meta;
    const dim = snap.meta?.dimension ?? 0;
    const floats = new Float32Array(raw.byteLength / 4);
    new Uint8Array(floats.buffer).set(raw);
    if (floats.length !== snap.fragments.length * dim) {
      throw new AiosError(
        CarmaErrorCode.STORE_CORRUPT,
        `vectors-${gen}.f32: expected ${snap.fragments.length} x ${dim} floats, got ${floats.length}`,
      );
    }
    snap.fragments.forEach((f, i) => {
      this.fragments.set(f.id, f);
      this.vectors.set(f.id, floats.slice(i * dim, (i + 1) * dim));
    });
    for (const [id, h] of Object.entries(snap.history)) this.histories.set(id, h);
  }

  private async replayLog(gen: number): Promise<void> {
    const logPath = this.path(`log-${gen}.jsonl`);
    if (!existsSync(logPath)) return;
    const lines = (await readFile(logPath, 'utf8')).split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.trim() === '') continue;
      let entry: LogEntry;
      try {
        entry = JSON.parse(line) as LogEntry;
      } catch {
        if (i >= lines.length - 2) break; // a torn final write
        throw new AiosError(CarmaErrorCode.STORE_CORRUPT, `${logPath}: bad line ${i + 1}`);
      }
      this.apply(entry);
      this.logEntries++;
    }
  }

  private apply(entry: LogEntry): void {
    if (entry.op === 'meta') {
      this.meta = entry.meta;
    } else if (entry.op === 'put') {
      for (const { fragment, vector, change } of entry.items) {
        this.fragments.set(fragment.id, fragment);
        this.vectors.set(fragment.id, decodeVector(vector));
        this.pushHistory(fragment.id, change);
        this.changed.add(fragment.id);
      }
    } else {
      for (const { id, change } of entry.items) {
        this.fragments.delete(id);
        this.vectors.delete(id);
        this.pushHistory(id, change);
        this.changed.add(id);
      }
    }
  }

  private pushHistory(id: string, change: FragmentChange): void {
    const list = this.histories.get(id);
    if (list) list.push(change);
    else this.histories.set(id, [change]);
  }

  private append(entry: LogEntry): void {
    if (this.logFd === undefined) return;
    try {
      writeSync(this.logFd, `${JSON.stringify(entry)}\n`);
    } catch (error) {
      throw fromNodeIoError(error, this.path(`log-${this.gen}.jsonl`));
    }
    this.logEntries++;
  }

  async setMeta(meta: StoreMeta): Promise<void> {
    const entry: LogEntry = { op: 'meta', meta: { ...meta } };
    this.append(entry);
    this.apply(entry);
  }

  async put(
    items: Array<{ fragment: FragmentRecord; vector: Float32Array; change: FragmentChange }>,
  ): Promise<void> {
    if (items.length === 0) return;
    const snapshot = items.map((i) => ({
      fragment: structuredClone(i.fragment),
      vector: encodeVector(i.vector),
      change: structuredClone(i.change),
    }));
    const entry: LogEntry = { op: 'put', items: snapshot };
    this.append(entry);
    this.apply(entry);
  }

  async delete(items: Array<{ id: string; change: FragmentChange }>): Promise<void> {
    if (items.length === 0) return;
    const entry: LogEntry = { op: 'delete', items: structuredClone(items) };
    this.append(entry);
    this.apply(entry);
  }

  get(id: string): FragmentRecord | undefined {
    return this.fragments.get(id);
  }

  vector(id: string): Float32Array | undefined {
    return this.vectors.get(id);
  }

  list(namespace?: string): FragmentRecord[] {
    const all = [...this.fragments.values()];
    return namespace === undefined ? all : all.filter((f) => f.namespace === namespace);
  }

  history(id: string): FragmentChange[] {
    return (this.histories.get(id) ?? []).map((c) => structuredClone(c));
  }

  /** Replaces a fragment's record in place without a history entry (access stats). */
  touch(fragment: FragmentRecord): void {
    if (this.fragments.has(fragment.id)) this.fragments.set(fragment.id, fragment);
  }

  async checkpoint(): Promise<number> {
    if (this.location === undefined) return this.gen;
    const next = this.gen + 1;
    const fragments = [...this.fragments.values()];
    const dim = this.meta?.dimension ?? 0;
    const floats = new Float32Array(fragments.length * dim);
    fragments.forEach((f, i) => {
      const v = this.vectors.get(f.id);
      if (v) floats.set(v.subarray(0, dim), i * dim);
    });
    const snap: Snapshot = {
      format: 'carma-store-v1',
      generation: next,
      meta: this.meta,
      fragments,
      history: Object.fromEntries(this.histories),
    };
    await atomicWrite(this.path(`vectors-${next}.f32`), new Uint8Array(floats.buffer));
    await atomicWrite(this.path(`snapshot-${next}.json`), JSON.stringify(snap));
    await atomicWrite(this.path('CURRENT'), `${next}\n`);
    const old = this.gen;
    if (this.logFd !== undefined) {
      fsyncSync(this.logFd);
      closeSync(this.logFd);
    }
    this.gen = next;
    this.logFd = openSync(this.path(`log-${next}.jsonl`), 'a');
    this.logEntries = 0;
    this.changed.clear();
    for (const name of [`snapshot-${old}.json`, `vectors-${old}.f32`, `log-${old}.jsonl`]) {
      await rm(this.path(name), { force: true });
    }
    return next;
  }

  async close(): Promise<void> {
    if (this.logFd !== undefined) {
      fsyncSync(this.logFd);
      closeSync(this.logFd);
      this.logFd = undefined;
    }
  }
}

/** A `FragmentStore` persisted in `dir` (or in memory only when `dir` is undefined). */
export function createFileFragmentStore(dir: string | undefined): FileFragmentStore {
  return new FileFragmentStore(dir);
}
