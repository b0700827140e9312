import type { BigIntStats } from 'node:fs';
import { lstat, mkdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream';
import {
  AiosError,
  createHashing,
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
  parseSnapshot,
  type RepoConfig,
  type SnapshotFile,
  type SnapshotInfo,
  type SnapshotSummary,
} from './format.js';
import { aborted } from './repo/cancel.js';
import { type ChunkIndex, type ChunkLocation, loadChunkIndex } from './repo/chunk-index.js';
import { storageError, withStorageErrors } from './repo/errors.js';
import {
  atomicWrite,
  clearDir,
  listDir,
  randomHex,
  readJson,
  removeDurably,
} from './repo/fsutil.js';
import { acquireLock, acquireReadLock } from './repo/lock.js';
import { PackWriter, packPath } from './repo/pack.js';
import { PackHandles } from './repo/pack-handles.js';
import { type PruneResult, pruneRepository } from './repo/prune.js';
import { ReuseGuard } from './repo/reuse-guard.js';
import {
  DEFAULT_READ_DATA,
  type VerifyOptions,
  type VerifyResult,
  verifyRepository,
} from './repo/verify.js';
import { type WalkItem, walk } from './repo/walk.js';
import {
  type ExportOptions,
  exportTar,
  type RestoreOptions,
  type RestoreResult,
  restoreSnapshot,
} from './restore.js';

export type { ChunkLocation } from './repo/chunk-index.js';
export type { PruneResult, PruneWarning } from './repo/prune.js';
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

/** Something about the repository (not the backed-up files) that a backup worked around. */
export interface RepositoryWarning {
  code: string;
  message: string;
}

export interface BackupResult {
  snapshot: SnapshotInfo;
  warnings: BackupWarning[];
  /**
   * Damaged snapshots skipped when choosing the parent (`SNAPSHOT_DAMAGED`) and damaged
   * stored chunks found before reuse and stored again from the live files (`CHUNK_DAMAGED`).
   */
  repositoryWarnings: RepositoryWarning[];
}

/** A snapshot file that cannot be read or does not match its id. */
export interface DamagedSnapshot {
  id: string;
  code: string;
  message: string;
}

export interface SnapshotList {
  /** The intact snapshots, oldest first. */
  snapshots: SnapshotInfo[];
  /** The damaged ones, which every operation skips; `forgetSnapshots` removes them. */
  damaged: DamagedSnapshot[];
}

export interface DiffResult {
  added: string[];
  removed: string[];
  /** Content, type or link target changed. */
  modified: string[];
  /** Only mode or mtime changed. */
  metadata: string[];
}

export interface ForgetOptions {
  prune?: boolean;
  dryRun?: boolean;
}

export interface ForgetResult {
  keep: string[];
  remove: string[];
  /** Damaged snapshots, which a policy neither keeps nor removes. */
  damaged: DamagedSnapshot[];
  prune?: PruneResult;
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

const SKELETON = ['data', 'index', 'snapshots', 'locks', 'tmp'];

/**
 * True when `root` holds only what an interrupted `initRepository` leaves (some of the
 * skeleton directories, empty but for temp files, and no config.json): init may go on.
 */
async function unfinishedInit(root: string, names: string[]): Promise<boolean> {
  if (!names.every((n) => SKELETON.includes(n))) return false;
  for (const name of names) {
    if (name === 'tmp') continue;
    if ((await listDir(join(root, name))).length > 0) return false;
  }
  return true;
}

/**
 * Creates a repository in an empty (or missing) directory, or finishes one whose init was
 * interrupted (a full disk, a kill) before config.json was written.
 */
export function initRepository(path: string, options: InitOptions = {}): Promise<Repository> {
  return withStorageErrors(() => init(path, options), path);
}

async function init(path: string, options: InitOptions): Promise<Repository> {
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
  const names = await listDir(root);
  if (names.length > 0 && !(await unfinishedInit(root, names))) {
    throw new AiosError(
      'REPO_EXISTS',
      `${root} is not empty; a repository needs an empty directory`,
      {
        details: { path: root },
      },
    );
  }
  for (const dir of SKELETON) await mkdir(join(root, dir), { recursive: true });
  await clearDir(join(root, 'tmp'));
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
export function openRepository(path: string, options: RepositoryOptions = {}): Promise<Repository> {
  return withStorageErrors(() => open(path, options), path);
}

async function open(path: string, options: RepositoryOptions): Promise<Repository> {
  if (typeof path !== 'string' || path === '') throw invalidInput('path', path, 'a directory path');
  const root = resolve(path);
  let raw: unknown;
  try {
    raw = await readJson(join(root, 'config.json'));
  } catch (error) {
    if ((error as AiosError).code === 'IO_NOT_FOUND') {
      const names = await listDir(root);
      const resumable = names.length > 0 && (await unfinishedInit(root, names));
      throw new AiosError(
        'REPO_NOT_FOUND',
        resumable
          ? `${root} is a repository whose creation was interrupted (no config.json yet); init (or a first backup) finishes it`
          : `${root} is not a backup repository (no config.json)`,
        { details: { path: root, resumable } },
      );
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

  /**
   * Every indexed chunk at its preferred copy (intact copies first, the others linked
   * through `next`), the index files, and what is known about each pack's bytes.
   */
  loadIndex(): Promise<ChunkIndex> {
    return withStorageErrors(() => loadChunkIndex(this.path), this.path);
  }

  /** Reads and checks one snapshot file (its id is the BLAKE3 of its bytes). */
  loadSnapshot(idOrPrefix: string): Promise<SnapshotFile & { id: string }> {
    return withStorageErrors(() => this.readSnapshot(idOrPrefix), this.path);
  }

  private async readSnapshot(idOrPrefix: string): Promise<SnapshotFile & { id: string }> {
    const id = await this.resolveSnapshotId(idOrPrefix);
    const path = join(this.path, 'snapshots', `${id}.json`);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw storageError(error, path);
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

  /** Every intact snapshot, oldest first (damaged ones are skipped: see `listSnapshots`). */
  async snapshots(): Promise<SnapshotInfo[]> {
    return (await this.listSnapshots()).snapshots;
  }

  /**
   * The intact snapshots, oldest first, and the damaged ones (a file that does not hash to
   * its id, is not JSON or not a snapshot): one damaged file never hides the others.
   */
  listSnapshots(): Promise<SnapshotList> {
    return withStorageErrors(async () => {
      const snapshots: SnapshotInfo[] = [];
      const damaged: DamagedSnapshot[] = [];
      for (const id of await this.snapshotIds()) {
        try {
          const { entries: _entries, ...info } = await this.readSnapshot(id);
          snapshots.push(info);
        } catch (error) {
          if (!(error instanceof AiosError)) throw error;
          if (error.code === 'IO_NOT_FOUND') continue; // forgotten meanwhile
          damaged.push({ id, code: error.code, message: error.message });
        }
      }
      snapshots.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
      return { snapshots, damaged };
    }, this.path);
  }

  /**
   * Removes the given snapshots (ids or unique prefixes), damaged ones included. Their data
   * stays until `prune`.
   */
  async forgetSnapshots(ids: string[]): Promise<string[]> {
    if (!Array.isArray(ids) || ids.length === 0) {
      throw invalidInput('ids', ids, 'a non-empty array of snapshot ids');
    }
    return withStorageErrors(async () => {
      const resolved = [];
      for (const id of ids) resolved.push(await this.resolveSnapshotId(id));
      const release = await acquireLock(this.path, 'forget');
      try {
        for (const id of resolved) await removeDurably(join(this.path, 'snapshots', `${id}.json`));
      } finally {
        await release();
      }
      return resolved;
    }, this.path);
  }

  /** Backs up files and directories as a new snapshot. */
  backup(paths: string[], options: BackupOptions = {}): Promise<BackupResult> {
    return withStorageErrors(() => this.lockedBackup(paths, options), this.path);
  }

  private async lockedBackup(paths: string[], options: BackupOptions): Promise<BackupResult> {
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
    const loaded = await loadChunkIndex(this.path);
    // The chunks this backup may reuse: those with a copy not known to be damaged.
    const index = new Map([...loaded.chunks].filter(([, loc]) => !loc.damaged));
    const guard = new ReuseGuard(this, index, loaded.files, loaded.checks);
    const repositoryWarnings: RepositoryWarning[] = [];

    let parent: (SnapshotFile & { id: string }) | undefined;
    if (options.parent) parent = await this.readSnapshot(options.parent);
    else {
      const { snapshots, damaged } = await this.listSnapshots();
      for (const d of damaged) {
        repositoryWarnings.push({
          code: 'SNAPSHOT_DAMAGED',
          message: `${d.message}; the damaged snapshot was skipped (forgetting it by id removes it)`,
        });
      }
      const same = snapshots.filter(
        (s) => s.hostname === host && JSON.stringify(s.paths) === JSON.stringify(roots),
      );
      const latest = same.at(-1);
      if (latest) parent = await this.readSnapshot(latest.id);
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
    const unchanged = (entry: Entry) => {
      const prev = previous.get(entry.path);
      return prev?.type === 'file' &&
        prev.size === entry.size &&
        prev.mtimeNs === entry.mtimeNs &&
        prev.inode === entry.inode &&
        prev.chunks?.every((c) => index.has(c))
        ? prev
        : undefined;
    };
    // The chunks of unchanged files are reused unread: their packs are proven intact first.
    const reusable: string[] = [];
    for (const item of items) {
      if (item.type !== 'file') continue;
      for (const c of unchanged(entryOf(item))?.chunks ?? []) reusable.push(c);
    }
    await guard.ensure(reusable, signal);
    for (const item of items) {
      const entry = entryOf(item);
      entries.set(entry.path, entry);
      if (item.type !== 'file') continue;
      progress.filesTotal++;
      progress.bytesTotal += entry.size;
      const prev = previous.get(entry.path);
      if (prev && unchanged(entry)) {
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
        // Chunks the repository has are reused: their packs are proven intact first.
        await guard.ensure(
          ready.flatMap(({ file }) => file.chunks.map((c) => c.id)),
          signal,
        );
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
            if (writer.size >= this.config.packSize) await this.finishPack(writer, index, guard);
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
    await this.finishPack(writer, index, guard);
    for (const d of guard.damaged) {
      repositoryWarnings.push({
        code: 'CHUNK_DAMAGED',
        message: `chunk ${d.chunk} is damaged in pack ${d.pack} and was not reused: ${
          d.relocated
            ? 'an intact copy is used'
            : index.has(d.chunk)
              ? 'it was stored again from the live data'
              : 'no file backed up now holds it, so older snapshots that use it cannot restore it'
        }`,
      });
    }

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
    return { snapshot: { ...info, id }, warnings, repositoryWarnings };
  }

  private async finishPack(
    writer: PackWriter,
    index: Map<string, ChunkLocation>,
    guard?: ReuseGuard,
  ): Promise<string | undefined> {
    const written = await writer.finish();
    if (!written) return undefined;
    guard?.written(written.pack);
    for (const b of written.blobs)
      if (!index.has(b.id)) index.set(b.id, { ...b, pack: written.pack });
    return written.pack;
  }

  /** Paths added, removed and changed from snapshot `a` to snapshot `b`. */
  diff(a: string, b: string): Promise<DiffResult> {
    return withStorageErrors(async () => {
      const [left, right] = await Promise.all([this.readSnapshot(a), this.readSnapshot(b)]);
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
    }, this.path);
  }

  /**
   * Restores a snapshot (or the paths matching `include`) under `target`, checking every
   * chunk; with `root`, the contents of that directory of the snapshot go straight under
   * `target`.
   */
  async restore(
    snapshot: string,
    target: string,
    options: RestoreOptions = {},
  ): Promise<RestoreResult> {
    if (typeof target !== 'string' || target === '')
      throw invalidInput('target', target, 'a directory path');
    return withStorageErrors(async () => {
      const release = await acquireReadLock(this.path, 'restore');
      try {
        const snap = await this.readSnapshot(snapshot);
        const { chunks } = await loadChunkIndex(this.path);
        return await restoreSnapshot(this, snap, chunks, resolve(target), options);
      } finally {
        await release();
      }
    }, this.path);
  }

  /** The snapshot as a tar stream (directories, files, symlinks) that plain `tar` reads. */
  exportTar(snapshot: string, options: ExportOptions = {}): Promise<NodeJS.ReadableStream> {
    return withStorageErrors(async () => {
      const release = await acquireReadLock(this.path, 'export');
      try {
        const snap = await this.readSnapshot(snapshot);
        const { chunks } = await loadChunkIndex(this.path);
        const stream = exportTar(this, snap, chunks, options);
        // Held until the stream is consumed, failed or abandoned.
        finished(stream, () => void release());
        return stream;
      } catch (error) {
        await release();
        throw error;
      }
    }, this.path);
  }

  /**
   * Reads blobs from packs and decodes them (checked against their ids), in order. A copy
   * that cannot be read or decoded is replaced by the chunk's next copy, when it has one.
   */
  async readChunks(
    ids: string[],
    chunks: Map<string, ChunkLocation>,
    handles: PackHandles,
  ): Promise<
    Array<{ ok: true; value: Uint8Array } | { ok: false; code: string; message: string }>
  > {
    type Decoded = { ok: true; value: Uint8Array } | { ok: false; code: string; message: string };
    const out: Decoded[] = ids.map((id) => ({
      ok: false,
      code: 'CHUNK_MISSING',
      message: `chunk ${id} is in no index`,
    }));
    let tries: Array<{ i: number; loc: ChunkLocation | undefined }> = ids.map((id, i) => ({
      i,
      loc: chunks.get(id),
    }));
    while (tries.length > 0) {
      const next: typeof tries = [];
      const requests: Array<{ i: number; loc: ChunkLocation; data: Uint8Array }> = [];
      for (const { i, loc } of tries) {
        if (!loc) continue;
        try {
          requests.push({ i, loc, data: await handles.read(loc.pack, loc.offset, loc.length) });
        } catch (error) {
          const e = storageError(error, packPath(this.path, loc.pack));
          out[i] = {
            ok: false,
            code: e.code === 'IO_NOT_FOUND' ? 'CHUNK_MISSING' : e.code,
            message: e.message,
          };
          if (loc.next) next.push({ i, loc: loc.next });
        }
      }
      const decoded = await this.engine.decodeBlobs(
        requests.map((r) => ({ data: r.data, id: r.loc.id, rawLength: r.loc.rawLength })),
      );
      for (const [k, result] of decoded.entries()) {
        const r = requests[k] as (typeof requests)[number];
        out[r.i] = result;
        if (!result.ok && r.loc.next) next.push({ i: r.i, loc: r.loc.next });
      }
      tries = next;
    }
    return out;
  }

  /** Opens pack files for reading (closed by `close()`). */
  packHandles(): PackHandles {
    return new PackHandles(this.path);
  }

  /**
   * Checks the repository's structure and, for `readData` percent of packs (default
   * `DEFAULT_READ_DATA`: those written to since their last check first), every chunk.
   */
  async verify(options: VerifyOptions = {}): Promise<VerifyResult> {
    const readData = options.readData ?? DEFAULT_READ_DATA;
    if (typeof readData !== 'number' || !(readData >= 0 && readData <= 100)) {
      throw invalidInput('options.readData', readData, 'a percentage from 0 to 100');
    }
    return withStorageErrors(async () => {
      const release = await acquireReadLock(this.path, 'verify');
      try {
        return await verifyRepository(this, readData, options.signal);
      } finally {
        await release();
      }
    }, this.path);
  }

  /**
   * Removes snapshots the policy does not keep (per host and path set), then prunes if
   * asked. Damaged snapshots are neither kept nor removed (they are listed).
   */
  async forget(policy: RetentionPolicy, options: ForgetOptions = {}): Promise<ForgetResult> {
    validatePolicy(policy);
    return withStorageErrors(async () => {
      const { snapshots: all, damaged } = await this.listSnapshots();
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
      if (options.dryRun) return { keep, remove, damaged };
      const release = await acquireLock(this.path, 'forget');
      try {
        for (const id of remove) await removeDurably(join(this.path, 'snapshots', `${id}.json`));
      } finally {
        await release();
      }
      return options.prune
        ? { keep, remove, damaged, prune: await this.prune() }
        : { keep, remove, damaged };
    }, this.path);
  }

  /**
   * Deletes data no snapshot uses, and only what it can prove unused (see `pruneRepository`),
   * plus leftovers of crashed runs.
   */
  prune(): Promise<PruneResult> {
    return withStorageErrors(async () => {
      const release = await acquireLock(this.path, 'prune');
      const writer = new PackWriter(this.path, await this.hashing.createHasher());
      try {
        await clearDir(this.tmpDir);
        return await pruneRepository(this, writer, () => this.finishPack(writer, new Map()));
      } catch (error) {
        await writer.abandon();
        throw error;
      } finally {
        await release();
      }
    }, this.path);
  }
}
