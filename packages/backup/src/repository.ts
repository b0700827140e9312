import type { BigIntStats } from 'node:fs';
import { lstat, mkdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream';
import {
  AiosError,
  createHashing,
  fromNodeIoError,
  type Hashing,
  type ImplementationReport,
  invalidInput,
  type NativeMode,
} from '@aios/utils';
import { createEngine } from './engine/index.js';
import type { Engine, FileChunks } from './engine/types.js';
import { type ChunkerParams, validateChunkerParams } from './fastcdc.js';
import {
  type BackupWarning,
  DEFAULT_CHUNKER,
  DEFAULT_COMPRESSION_LEVEL,
  DEFAULT_PACK_SIZE,
  type Entry,
  emptySummary,
  FORMAT_NAME,
  FORMAT_VERSION,
  HEX64,
  type IndexBlob,
  type IndexFile,
  parseIndex,
  parseSnapshot,
  type RepoConfig,
  type SnapshotFile,
  type SnapshotInfo,
  type SnapshotSummary,
} from './format.js';
import { aborted } from './repo/cancel.js';
import {
  atomicWrite,
  clearDir,
  listDir,
  randomHex,
  readJson,
  removeDurably,
} from './repo/fsutil.js';
import { acquireLock, acquireReadLock } from './repo/lock.js';
import { indexPath, PackWriter, packPath } from './repo/pack.js';
import { PackHandles } from './repo/pack-handles.js';
import { type VerifyOptions, type VerifyResult, verifyRepository } from './repo/verify.js';
import { type WalkItem, walk } from './repo/walk.js';
import {
  type ExportOptions,
  exportTar,
  type RestoreOptions,
  type RestoreResult,
  restoreSnapshot,
} from './restore.js';

export type { VerifyOptions, VerifyResult } from './repo/verify.js';

import { applyRetention, type RetentionPolicy, validatePolicy } from './retention.js';

export interface RepositoryOptions {
  /** Overrides `AIOS_NATIVE` for this repository handle. */
  native?: NativeMode;
}

export interface InitOptions extends RepositoryOptions {
  chunker?: ChunkerParams;
  compressionLevel?: number;
  packSize?: number;
}

export interface BackupProgress {
  phase: 'scan' | 'backup' | 'done';
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Bytes per second since the backup phase started. */
  bytesPerSecond: number;
  /** Seconds left at the current rate; null before there is a rate. */
  etaSeconds: number | null;
  currentPath?: string;
}

export interface BackupOptions {
  /** gitignore-style patterns, relative to each backed-up path. */
  excludes?: string[];
  tags?: string[];
  onProgress?: (progress: BackupProgress) => void;
  signal?: AbortSignal;
  /** Parent snapshot for the unchanged-file shortcut; default: the latest with the same paths and host. */
  parent?: string;
  /** Read every file again even when size, mtime and inode are unchanged. */
  force?: boolean;
}

export interface BackupResult {
  snapshot: SnapshotInfo;
  warnings: BackupWarning[];
}

export interface DiffResult {
  added: string[];
  removed: string[];
  /** Content, type or link target changed. */
  modified: string[];
  /** Only mode or mtime changed. */
  metadata: string[];
}

export interface PruneResult {
  packsDeleted: number;
  packsRewritten: number;
  packsWritten: number;
  chunksRemoved: number;
  bytesFreed: number;
}

export interface ForgetOptions {
  prune?: boolean;
  dryRun?: boolean;
}

export interface ForgetResult {
  keep: string[];
  remove: string[];
  prune?: PruneResult;
}

/** Where a chunk is stored. */
export interface ChunkLocation extends IndexBlob {
  pack: string;
}

const BATCH_FILES = 64;
const BATCH_BYTES = 32 * 1024 * 1024;

function mtimeNs(s: BigIntStats): string {
  return s.mtimeNs.toString();
}

function entryOf(item: WalkItem): Entry {
  const s = item.stats;
  return {
    path: item.path,
    type: item.type,
    mode: Number(s.mode & 0o7777n),
    size: item.type === 'file' ? Number(s.size) : 0,
    mtimeNs: mtimeNs(s),
    uid: Number(s.uid),
    gid: Number(s.gid),
    inode: Number(s.ino),
    ...(item.type === 'file' ? { chunks: [] } : {}),
    ...(item.type === 'symlink' ? { target: item.target ?? '' } : {}),
  };
}

/** Creates a repository in an empty (or missing) directory. */
export async function initRepository(path: string, options: InitOptions = {}): Promise<Repository> {
  if (typeof path !== 'string' || path === '') throw invalidInput('path', path, 'a directory path');
  const root = resolve(path);
  const chunker = validateChunkerParams(options.chunker ?? DEFAULT_CHUNKER, 'chunker');
  const level = options.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw invalidInput('compressionLevel', level, 'an integer from 1 to 19');
  }
  const packSize = options.packSize ?? DEFAULT_PACK_SIZE;
  if (!Number.isInteger(packSize) || packSize < 1024 * 1024 || packSize > 1024 ** 3) {
    throw invalidInput('packSize', packSize, 'an integer from 1 MiB to 1 GiB');
  }
  await mkdir(root, { recursive: true });
  if ((await listDir(root)).length > 0) {
    throw new AiosError(
      'REPO_EXISTS',
      `${root} is not empty; a repository needs an empty directory`,
      {
        details: { path: root },
      },
    );
  }
  for (const dir of ['data', 'index', 'snapshots', 'locks', 'tmp']) await mkdir(join(root, dir));
  const config: RepoConfig = {
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    id: randomHex(),
    created: new Date().toISOString(),
    hash: 'blake3',
    chunker: { algorithm: 'fastcdc-2020', ...chunker },
    compression: { algorithm: 'zstd', level },
    packSize,
  };
  // config.json is written last: a directory without it is not a repository yet.
  await atomicWrite(
    join(root, 'tmp'),
    join(root, 'config.json'),
    `${JSON.stringify(config, null, 2)}\n`,
  );
  return openRepository(root, options);
}

/** Opens an existing repository. */
export async function openRepository(
  path: string,
  options: RepositoryOptions = {},
): Promise<Repository> {
  if (typeof path !== 'string' || path === '') throw invalidInput('path', path, 'a directory path');
  const root = resolve(path);
  let raw: unknown;
  try {
    raw = await readJson(join(root, 'config.json'));
  } catch (error) {
    if ((error as AiosError).code === 'IO_NOT_FOUND') {
      throw new AiosError('REPO_NOT_FOUND', `${root} is not a backup repository (no config.json)`, {
        details: { path: root },
      });
    }
    throw error;
  }
  const config = raw as RepoConfig;
  if (config?.format !== FORMAT_NAME || config.version !== FORMAT_VERSION) {
    throw new AiosError(
      'REPO_UNSUPPORTED',
      `${root}: format ${String(config?.format)} version ${String(config?.version)} is not supported (this is ${FORMAT_NAME} ${FORMAT_VERSION})`,
      { details: { path: root } },
    );
  }
  validateChunkerParams(config.chunker, 'config.chunker');
  const engine = await createEngine(options.native);
  const hashing = await createHashing({
    native: engine.implementation === 'native' ? 'native' : 'js',
  });
  return new Repository(root, config, engine, hashing);
}

/** A backup repository (see FORMAT.md); every operation works on both implementations. */
export class Repository {
  /** @internal */
  constructor(
    readonly path: string,
    readonly config: RepoConfig,
    /** @internal */ readonly engine: Engine,
    private readonly hashing: Hashing,
  ) {}

  get implementation(): ImplementationReport['implementation'] {
    return this.engine.implementation;
  }
  get report(): ImplementationReport {
    return this.engine.report;
  }

  private get tmpDir(): string {
    return join(this.path, 'tmp');
  }

  /** Every indexed chunk (the first location wins when a chunk is stored twice). */
  async loadIndex(): Promise<{ chunks: Map<string, ChunkLocation>; files: IndexFile[] }> {
    const chunks = new Map<string, ChunkLocation>();
    const files: IndexFile[] = [];
    for (const name of await listDir(join(this.path, 'index'))) {
      if (!name.endsWith('.json')) continue;
      const index = parseIndex(name, await readJson(join(this.path, 'index', name)));
      files.push(index);
      for (const b of index.blobs)
        if (!chunks.has(b.id)) chunks.set(b.id, { ...b, pack: index.pack });
    }
    return { chunks, files };
  }

  /** Reads and checks one snapshot file (its id is the BLAKE3 of its bytes). */
  async loadSnapshot(idOrPrefix: string): Promise<SnapshotFile & { id: string }> {
    const id = await this.resolveSnapshotId(idOrPrefix);
    const path = join(this.path, 'snapshots', `${id}.json`);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw fromNodeIoError(error, path);
    }
    const actual = this.engine.hash(bytes);
    if (actual !== id) {
      throw new AiosError('REPO_CORRUPT', `snapshot ${id}: content hashes to ${actual}`, {
        details: { snapshot: id },
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new AiosError('REPO_CORRUPT', `snapshot ${id}: not valid JSON`, { cause: error });
    }
    return { ...parseSnapshot(id, parsed), id };
  }

  /** @internal */
  async snapshotIds(): Promise<string[]> {
    return (await listDir(join(this.path, 'snapshots')))
      .filter((n) => n.endsWith('.json') && HEX64.test(n.slice(0, -5)))
      .map((n) => n.slice(0, -5));
  }

  /** A full id from a unique prefix (at least 4 hex characters). */
  async resolveSnapshotId(idOrPrefix: string): Promise<string> {
    if (typeof idOrPrefix !== 'string' || !/^[0-9a-f]{4,64}$/.test(idOrPrefix)) {
      throw invalidInput(
        'snapshot',
        idOrPrefix,
        'a snapshot id or a unique prefix of at least 4 hex digits',
      );
    }
    const matches = (await this.snapshotIds()).filter((id) => id.startsWith(idOrPrefix));
    if (matches.length === 1) return matches[0] as string;
    throw new AiosError(
      matches.length === 0 ? 'SNAPSHOT_NOT_FOUND' : 'SNAPSHOT_AMBIGUOUS',
      matches.length === 0
        ? `no snapshot ${idOrPrefix} in ${this.path}`
        : `snapshot prefix ${idOrPrefix} matches ${matches.length} snapshots`,
      { details: { snapshot: idOrPrefix } },
    );
  }

  /** Every snapshot, oldest first. */
  async snapshots(): Promise<SnapshotInfo[]> {
    const out: SnapshotInfo[] = [];
    for (const id of await this.snapshotIds()) {
      const { entries: _entries, ...info } = await this.loadSnapshot(id);
      out.push(info);
    }
    return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  }

  /** Backs up files and directories as a new snapshot. */
  async backup(paths: string[], options: BackupOptions = {}): Promise<BackupResult> {
    if (
      !Array.isArray(paths) ||
      paths.length === 0 ||
      !paths.every((p) => typeof p === 'string' && p !== '')
    ) {
      throw invalidInput('paths', paths, 'a non-empty array of paths');
    }
    const excludes = options.excludes ?? [];
    const tags = options.tags ?? [];
    for (const [field, list] of [
      ['excludes', excludes],
      ['tags', tags],
    ] as const) {
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
        throw invalidInput(`options.${field}`, list, 'an array of strings');
      }
    }
    aborted(options.signal, 'backup');
    const release = await acquireLock(this.path, 'backup');
    const writer = new PackWriter(this.path, await this.hashing.createHasher());
    try {
      await clearDir(this.tmpDir);
      return await this.runBackup(paths, excludes, tags, writer, options);
    } catch (error) {
      await writer.abandon();
      throw error;
    } finally {
      await release();
    }
  }

  private async runBackup(
    paths: string[],
    excludes: string[],
    tags: string[],
    writer: PackWriter,
    options: BackupOptions,
  ): Promise<BackupResult> {
    const started = Date.now();
    const { signal, onProgress } = options;
    const roots = [...new Set(paths.map((p) => resolve(p)))].sort();
    const host = hostname();
    const { chunks: index } = await this.loadIndex();

    let parent: (SnapshotFile & { id: string }) | undefined;
    if (options.parent) parent = await this.loadSnapshot(options.parent);
    else {
      const same = (await this.snapshots()).filter(
        (s) => s.hostname === host && JSON.stringify(s.paths) === JSON.stringify(roots),
      );
      const latest = same.at(-1);
      if (latest) parent = await this.loadSnapshot(latest.id);
    }
    const previous = new Map<string, Entry>();
    if (parent && !options.force) for (const e of parent.entries) previous.set(e.path, e);

    const warnings: BackupWarning[] = [];
    const items = await walk(roots, excludes, warnings, signal);
    const entries = new Map<string, Entry>();
    const toRead: Array<{ item: WalkItem; entry: Entry }> = [];
    const summary: SnapshotSummary = emptySummary();
    const progress: BackupProgress = {
      phase: 'scan',
      filesDone: 0,
      filesTotal: 0,
      bytesDone: 0,
      bytesTotal: 0,
      bytesPerSecond: 0,
      etaSeconds: null,
    };
    for (const item of items) {
      const entry = entryOf(item);
      entries.set(entry.path, entry);
      if (item.type !== 'file') continue;
      progress.filesTotal++;
      progress.bytesTotal += entry.size;
      const prev = previous.get(entry.path);
      if (
        prev?.type === 'file' &&
        prev.size === entry.size &&
        prev.mtimeNs === entry.mtimeNs &&
        prev.inode === entry.inode &&
        prev.chunks?.every((c) => index.has(c))
      ) {
        entry.chunks = prev.chunks;
        summary.filesUnchanged++;
        progress.filesDone++;
        progress.bytesDone += entry.size;
      } else {
        if (prev) summary.filesChanged++;
        else summary.filesNew++;
        toRead.push({ item, entry });
      }
    }
    onProgress?.({ ...progress });
    progress.phase = 'backup';
    const backupStart = Date.now();
    const bytesAtStart = progress.bytesDone;
    const report = (current?: string) => {
      const secs = (Date.now() - backupStart) / 1000;
      const done = progress.bytesDone - bytesAtStart;
      progress.bytesPerSecond = secs > 0 ? done / secs : 0;
      const left = progress.bytesTotal - progress.bytesDone;
      progress.etaSeconds =
        progress.bytesPerSecond > 0 ? left / progress.bytesPerSecond : left === 0 ? 0 : null;
      onProgress?.({ ...progress, ...(current ? { currentPath: current } : {}) });
    };

    const drop = (entry: Entry, warning: BackupWarning) => {
      warnings.push(warning);
      entries.delete(entry.path);
    };

    // Files are read in batches: the engine chunks a batch (in parallel, natively), then
    // compresses the chunks the repository does not have yet, re-reading them and checking
    // they still hash to what was chunked.
    let batch: Array<{ item: WalkItem; entry: Entry; attempt: number }> = [];
    let batchBytes = 0;
    type Work = { item: WalkItem; entry: Entry; attempt: number };
    const chunk = (work: Work[]) => {
      const p = this.engine.chunkFiles(
        work.map((w) => w.item.abs),
        this.config.chunker,
      );
      p.catch(() => undefined); // awaited below; never an unhandled rejection
      return p;
    };
    const flushBatch = async (work: Work[], prechunked?: ReturnType<typeof chunk>) => {
      let pending = work;
      let first = prechunked;
      while (pending.length > 0) {
        aborted(signal, 'backup');
        const retry: typeof pending = [];
        const chunked = await (first ?? chunk(pending));
        first = undefined;
        const ready: Array<{ w: (typeof pending)[number]; file: FileChunks; changed: boolean }> =
          [];
        for (const [i, result] of chunked.entries()) {
          const w = pending[i] as (typeof pending)[number];
          if (!result.ok) {
            drop(w.entry, { path: w.item.abs, code: result.code, message: result.message });
            continue;
          }
          // A file whose size or mtime moved while it was read is read once more; if it
          // keeps changing, what was read is kept and the file is reported.
          let after: BigIntStats | undefined;
          try {
            after = await lstat(w.item.abs, { bigint: true });
          } catch {
            after = undefined;
          }
          const changed =
            !after ||
            after.size !== w.item.stats.size ||
            after.mtimeNs !== w.item.stats.mtimeNs ||
            BigInt(result.value.size) !== w.item.stats.size;
          if (changed && w.attempt === 0 && after) {
            retry.push({ item: { ...w.item, stats: after }, entry: w.entry, attempt: 1 });
            continue;
          }
          ready.push({ w, file: result.value, changed });
        }
        // Compress the new chunks, bounded in memory.
        const failed = new Set<(typeof pending)[number]>();
        let requests: Array<{
          w: (typeof pending)[number];
          id: string;
          offset: number;
          length: number;
        }> = [];
        let requestBytes = 0;
        const compress = async () => {
          const reqs = requests;
          requests = [];
          requestBytes = 0;
          if (reqs.length === 0) return;
          const blobs = await this.engine.compressRanges(
            reqs.map((r) => ({ path: r.w.item.abs, offset: r.offset, length: r.length, id: r.id })),
            this.config.compression.level,
          );
          for (const [i, blob] of blobs.entries()) {
            const r = reqs[i] as (typeof reqs)[number];
            if (!blob.ok) {
              if (!failed.has(r.w)) {
                failed.add(r.w);
                if (blob.code === 'FILE_CHANGED' && r.w.attempt === 0) {
                  retry.push({ ...r.w, attempt: 1 });
                } else {
                  drop(r.w.entry, { path: r.w.item.abs, code: blob.code, message: blob.message });
                }
              }
              continue;
            }
            if (index.has(r.id) || writer.has(r.id)) continue;
            await writer.add(r.id, blob.value, r.length);
            summary.chunksNew++;
            summary.bytesNew += r.length;
            summary.bytesStored += blob.value.length;
            if (writer.size >= this.config.packSize) await this.finishPack(writer, index);
          }
        };
        const queued = new Set<string>();
        for (const { w, file } of ready) {
          for (const c of file.chunks) {
            if (index.has(c.id) || writer.has(c.id) || queued.has(c.id)) continue;
            queued.add(c.id);
            requests.push({ w, id: c.id, offset: c.offset, length: c.length });
            requestBytes += c.length;
            if (requestBytes >= BATCH_BYTES) await compress();
          }
        }
        await compress();
        for (const { w, file, changed } of ready) {
          if (failed.has(w)) continue;
          if (changed) {
            warnings.push({
              path: w.item.abs,
              code: 'FILE_CHANGED',
              message: `${w.item.abs}: changed while being backed up; stored as read`,
            });
          }
          w.entry.chunks = file.chunks.map((c) => c.id);
          w.entry.size = file.size;
          progress.filesDone++;
          progress.bytesDone += Number(w.item.stats.size);
        }
        pending = retry;
        report(work.at(-1)?.item.abs);
      }
    };
    const batches: Work[][] = [];
    for (const w of toRead) {
      batch.push({ ...w, attempt: 0 });
      batchBytes += w.entry.size;
      if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) {
        batches.push(batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) batches.push(batch);
    // Batch n+1 is chunked (off the JS thread, natively) while batch n is compressed and packed.
    let next = batches.length > 0 ? chunk(batches[0] as Work[]) : undefined;
    for (let b = 0; b < batches.length; b++) {
      const current = next;
      next = b + 1 < batches.length ? chunk(batches[b + 1] as Work[]) : undefined;
      await flushBatch(batches[b] as Work[], current);
    }
    aborted(signal, 'backup');
    await this.finishPack(writer, index);

    const finalEntries = [...entries.values()];
    for (const e of finalEntries) {
      if (e.type === 'file') {
        summary.files++;
        summary.bytes += e.size;
      } else if (e.type === 'dir') summary.dirs++;
      else summary.symlinks++;
    }
    summary.durationMs = Date.now() - started;
    const snapshot: SnapshotFile = {
      version: FORMAT_VERSION,
      time: new Date().toISOString(),
      hostname: host,
      paths: roots,
      tags,
      parent: parent?.id ?? null,
      summary,
      warnings,
      entries: finalEntries,
    };
    const bytes = Buffer.from(JSON.stringify(snapshot));
    const id = this.engine.hash(bytes);
    await atomicWrite(this.tmpDir, join(this.path, 'snapshots', `${id}.json`), bytes);
    progress.phase = 'done';
    report();
    const { entries: _e, ...info } = snapshot;
    return { snapshot: { ...info, id }, warnings };
  }

  private async finishPack(writer: PackWriter, index: Map<string, ChunkLocation>): Promise<void> {
    const written = await writer.finish();
    if (!written) return;
    for (const b of written.blobs)
      if (!index.has(b.id)) index.set(b.id, { ...b, pack: written.pack });
  }

  /** Paths added, removed and changed from snapshot `a` to snapshot `b`. */
  async diff(a: string, b: string): Promise<DiffResult> {
    const [left, right] = await Promise.all([this.loadSnapshot(a), this.loadSnapshot(b)]);
    const before = new Map(left.entries.map((e) => [e.path, e]));
    const result: DiffResult = { added: [], removed: [], modified: [], metadata: [] };
    const seen = new Set<string>();
    for (const e of right.entries) {
      seen.add(e.path);
      const old = before.get(e.path);
      if (!old) result.added.push(e.path);
      else if (
        old.type !== e.type ||
        old.size !== e.size ||
        old.target !== e.target ||
        (old.chunks ?? []).join() !== (e.chunks ?? []).join()
      ) {
        result.modified.push(e.path);
      } else if (old.mode !== e.mode || old.mtimeNs !== e.mtimeNs) result.metadata.push(e.path);
    }
    for (const e of left.entries) if (!seen.has(e.path)) result.removed.push(e.path);
    return result;
  }

  /** Restores a snapshot (or the paths matching `include`) under `target`, checking every chunk. */
  async restore(
    snapshot: string,
    target: string,
    options: RestoreOptions = {},
  ): Promise<RestoreResult> {
    if (typeof target !== 'string' || target === '')
      throw invalidInput('target', target, 'a directory path');
    const release = await acquireReadLock(this.path, 'restore');
    try {
      const snap = await this.loadSnapshot(snapshot);
      const { chunks } = await this.loadIndex();
      return await restoreSnapshot(this, snap, chunks, resolve(target), options);
    } finally {
      await release();
    }
  }

  /** The snapshot as a tar stream (directories, files, symlinks) that plain `tar` reads. */
  async exportTar(snapshot: string, options: ExportOptions = {}): Promise<NodeJS.ReadableStream> {
    const release = await acquireReadLock(this.path, 'export');
    try {
      const snap = await this.loadSnapshot(snapshot);
      const { chunks } = await this.loadIndex();
      const stream = exportTar(this, snap, chunks, options);
      // Held until the stream is consumed, failed or abandoned.
      finished(stream, () => void release());
      return stream;
    } catch (error) {
      await release();
      throw error;
    }
  }

  /** Reads blobs from packs and decodes them (checked against their ids), in order. */
  async readChunks(
    ids: string[],
    chunks: Map<string, ChunkLocation>,
    handles: PackHandles,
  ): Promise<
    Array<{ ok: true; value: Uint8Array } | { ok: false; code: string; message: string }>
  > {
    const out: Array<
      { ok: true; value: Uint8Array } | { ok: false; code: string; message: string }
    > = [];
    const requests: Array<{ i: number; data: Uint8Array; id: string; rawLength: number }> = [];
    for (const id of ids) {
      const loc = chunks.get(id);
      if (!loc) {
        out.push({ ok: false, code: 'CHUNK_MISSING', message: `chunk ${id} is in no index` });
        continue;
      }
      try {
        const data = await handles.read(loc.pack, loc.offset, loc.length);
        requests.push({ i: out.length, data, id, rawLength: loc.rawLength });
        out.push({ ok: true, value: new Uint8Array() });
      } catch (error) {
        const e = fromNodeIoError(error, packPath(this.path, loc.pack));
        out.push({
          ok: false,
          code: e.code === 'IO_NOT_FOUND' ? 'CHUNK_MISSING' : e.code,
          message: e.message,
        });
      }
    }
    const decoded = await this.engine.decodeBlobs(requests);
    for (const [k, r] of decoded.entries()) out[(requests[k] as (typeof requests)[number]).i] = r;
    return out;
  }

  /** Opens pack files for reading (closed by `close()`). */
  packHandles(): PackHandles {
    return new PackHandles(this.path);
  }

  /** Checks the repository's structure and, for `readData` percent of packs, every chunk. */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const readData = options.readData ?? 0;
    if (typeof readData !== 'number' || !(readData >= 0 && readData <= 100)) {
      throw invalidInput('options.readData', readData, 'a percentage from 0 to 100');
    }
    const release = await acquireReadLock(this.path, 'verify');
    try {
      return await verifyRepository(this, readData, options.signal);
    } finally {
      await release();
    }
  }

  /** Removes snapshots the policy does not keep (per host and path set), then prunes if asked. */
  async forget(policy: RetentionPolicy, options: ForgetOptions = {}): Promise<ForgetResult> {
    validatePolicy(policy);
    const all = await this.snapshots();
    const groups = new Map<string, SnapshotInfo[]>();
    for (const s of all) {
      const key = JSON.stringify([s.hostname, s.paths]);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    const keep: string[] = [];
    const remove: string[] = [];
    for (const group of groups.values()) {
      const r = applyRetention(group, policy);
      keep.push(...r.keep.map((s) => s.id));
      remove.push(...r.remove.map((s) => s.id));
    }
    if (options.dryRun) return { keep, remove };
    const release = await acquireLock(this.path, 'forget');
    try {
      for (const id of remove) await removeDurably(join(this.path, 'snapshots', `${id}.json`));
    } finally {
      await release();
    }
    return options.prune ? { keep, remove, prune: await this.prune() } : { keep, remove };
  }

  /**
   * Deletes data no snapshot uses: packs with no used chunk are removed, packs with some
   * are rewritten with only the used chunks (new pack and index durable before the old
   * index, then the old pack, are removed), unindexed packs and temp files are removed.
   */
  async prune(): Promise<PruneResult> {
    const release = await acquireLock(this.path, 'prune');
    const writer = new PackWriter(this.path, await this.hashing.createHasher());
    try {
      await clearDir(this.tmpDir);
      const used = new Set<string>();
      for (const id of await this.snapshotIds()) {
        for (const e of (await this.loadSnapshot(id)).entries)
          for (const c of e.chunks ?? []) used.add(c);
      }
      const { files } = await this.loadIndex();
      const result: PruneResult = {
        packsDeleted: 0,
        packsRewritten: 0,
        packsWritten: 0,
        chunksRemoved: 0,
        bytesFreed: 0,
      };
      const kept = new Set<string>();
      const toDelete: IndexFile[] = [];
      const toRewrite: IndexFile[] = [];
      for (const f of files) {
        const usedHere = f.blobs.filter((b) => used.has(b.id) && !kept.has(b.id));
        if (usedHere.length === f.blobs.length) {
          for (const b of f.blobs) kept.add(b.id);
        } else if (usedHere.length === 0) toDelete.push(f);
        else toRewrite.push(f);
      }
      const handles = this.packHandles();
      const fresh = new Map<string, ChunkLocation>();
      try {
        for (const f of toRewrite) {
          const wanted = f.blobs.filter((b) => used.has(b.id) && !kept.has(b.id));
          const requests = [];
          for (const b of wanted) {
            requests.push({
              data: await handles.read(f.pack, b.offset, b.length),
              id: b.id,
              rawLength: b.rawLength,
            });
          }
          const decoded = await this.engine.decodeBlobs(requests);
          for (const [i, r] of decoded.entries()) {
            const req = requests[i] as (typeof requests)[number];
            // A damaged chunk is not copied; verify keeps reporting it as missing.
            if (!r.ok || kept.has(req.id)) continue;
            await writer.add(req.id, req.data, req.rawLength);
            kept.add(req.id);
            if (writer.size >= this.config.packSize) {
              await this.finishPack(writer, fresh);
              result.packsWritten++;
            }
          }
          toDelete.push(f);
          result.packsRewritten++;
        }
      } finally {
        await handles.close();
      }
      if (writer.count > 0) {
        await this.finishPack(writer, fresh);
        result.packsWritten++;
      }
      const rewritten = new Set(toRewrite.map((f) => f.pack));
      for (const f of toDelete) {
        await removeDurably(indexPath(this.path, f.pack));
        await removeDurably(packPath(this.path, f.pack));
        if (!rewritten.has(f.pack)) result.packsDeleted++;
        result.bytesFreed += f.size;
        result.chunksRemoved += f.blobs.filter((b) => !kept.has(b.id)).length;
      }
      // Packs no index describes (left by a crash before their index was written).
      const indexed = new Set((await this.loadIndex()).files.map((f) => f.pack));
      for (const dir of await listDir(join(this.path, 'data'))) {
        for (const name of await listDir(join(this.path, 'data', dir))) {
          if (indexed.has(name)) continue;
          const path = join(this.path, 'data', dir, name);
          result.bytesFreed += (await stat(path)).size;
          await removeDurably(path);
          result.packsDeleted++;
        }
      }
      return result;
    } catch (error) {
      await writer.abandon();
      throw error;
    } finally {
      await release();
    }
  }
}
