import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { finished } from 'node:stream';
import {
  AiosError,
  type ContentHasher,
  createHashing,
  type Hashing,
  type ImplementationReport,
  invalidInput,
  type NativeMode,
} from '@aios/utils';
import { runBackup } from './backup-run/run.js';
import { createEngine } from './engine/index.js';
import type { Engine } from './engine/types.js';
import { type ExportOptions, exportTar } from './export-tar.js';
import { type ChunkerParams, validateChunkerParams } from './fastcdc.js';
import {
  DEFAULT_CHUNKER,
  DEFAULT_COMPRESSION_LEVEL,
  DEFAULT_PACK_SIZE,
  FORMAT_NAME,
  FORMAT_VERSION,
  HEX64,
  parseSnapshot,
  type RepoConfig,
  type SnapshotFile,
  type SnapshotInfo,
} from './format.js';
import { aborted } from './repo/cancel.js';
import { type ChunkIndex, loadChunkIndex } from './repo/chunk-index.js';
import { PackChunkReader } from './repo/chunk-reader.js';
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
import { PackWriter } from './repo/pack.js';
import { type PruneResult, pruneRepository } from './repo/prune.js';
import type { SnapshotStore } from './repo/stores.js';
import {
  DEFAULT_READ_DATA,
  type VerifyOptions,
  type VerifyResult,
  verifyRepository,
} from './repo/verify.js';
import { type RestoreOptions, type RestoreResult, restoreSnapshot } from './restore.js';

export type { PruneResult, PruneWarning } from './repo/prune.js';
export type { VerifyOptions, VerifyResult } from './repo/verify.js';
export type {
  BackupOptions,
  BackupProgress,
  BackupResult,
  DamagedSnapshot,
  RepositoryWarning,
  SnapshotList,
} from './types.js';

import { applyRetention, keepsNothing, type RetentionPolicy, validatePolicy } from './retention.js';
import type { BackupOptions, BackupResult, DamagedSnapshot, SnapshotList } from './types.js';

export interface RepositoryOptions {
  /** Overrides `AIOS_NATIVE` for this repository handle. */
  native?: NativeMode;
}

export interface InitOptions extends RepositoryOptions {
  chunker?: ChunkerParams;
  compressionLevel?: number;
  packSize?: number;
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

const SKELETON = ['data', 'index', 'snapshots', 'locks', 'tmp'];
/** `latest` and `latest~N`, the names of the newest snapshots (see `resolveSnapshotId`). */
const LATEST = /^latest(?:~(\d{1,6}))?$/;

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
 * A repository that holds snapshots or indexes but lost its config.json (deleted, a copy
 * that left it out) is named as such: it is no empty directory to initialise, and "not a
 * backup repository" would send its owner looking elsewhere for their backups.
 */
async function refuseLostConfig(root: string): Promise<void> {
  const snapshots = (await listDir(join(root, 'snapshots'))).filter((n) => n.endsWith('.json'));
  const indexes = (await listDir(join(root, 'index'))).filter((n) => n.endsWith('.json'));
  if (snapshots.length === 0 && indexes.length === 0) return;
  throw new AiosError(
    'REPO_CORRUPT',
    `${root} holds ${snapshots.length} snapshot file${snapshots.length === 1 ? '' : 's'} and ${indexes.length} pack index${indexes.length === 1 ? '' : 'es'} but its config.json is missing: put it back from a copy of the repository (nothing was changed)`,
    { details: { path: root, snapshots: snapshots.length, indexes: indexes.length } },
  );
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
      await refuseLostConfig(root);
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
export class Repository implements SnapshotStore {
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

  /**
   * A full id from a reference: an id or a unique prefix of one (at least 4 hex
   * characters), `latest` (the newest intact snapshot) or `latest~N` (the Nth before it).
   * Every operation that takes a snapshot resolves it here, so each accepts the same names.
   */
  async resolveSnapshotId(idOrPrefix: string): Promise<string> {
    const latest = typeof idOrPrefix === 'string' ? LATEST.exec(idOrPrefix.trim()) : null;
    if (latest) return this.latestSnapshotId(idOrPrefix.trim(), Number(latest[1] ?? 0));
    if (typeof idOrPrefix !== 'string' || !/^[0-9a-f]{4,64}$/.test(idOrPrefix)) {
      throw invalidInput(
        'snapshot',
        idOrPrefix,
        'a snapshot id, a unique prefix of at least 4 hex digits, "latest" or "latest~N"',
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

  /** The id of the snapshot `back` before the newest intact one (`ref` names it in errors). */
  private async latestSnapshotId(ref: string, back: number): Promise<string> {
    const { snapshots, damaged } = await this.listSnapshots();
    const found = snapshots.at(-1 - back);
    if (found) return found.id;
    // Damaged snapshots are not counted, but said: "no snapshots yet" would hide them.
    const besides =
      damaged.length > 0
        ? ` (and ${damaged.length} damaged snapshot file${damaged.length === 1 ? '' : 's'}: ${damaged.map((d) => d.id.slice(0, 12)).join(', ')})`
        : '';
    throw new AiosError(
      'SNAPSHOT_NOT_FOUND',
      snapshots.length === 0
        ? `${this.path} has no ${damaged.length > 0 ? 'intact snapshot' : 'snapshots yet'}${besides}`
        : `${ref}: ${this.path} has only ${snapshots.length}${damaged.length > 0 ? ' intact' : ''} snapshot${snapshots.length === 1 ? '' : 's'}${besides}`,
      { details: { snapshot: ref } },
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
   * Removes the given snapshots (see `resolveSnapshotId`), damaged ones included, and
   * returns their ids; with `dryRun`, only resolves them. Their data stays until `prune`.
   */
  async forgetSnapshots(ids: string[], options: { dryRun?: boolean } = {}): Promise<string[]> {
    if (!Array.isArray(ids) || ids.length === 0) {
      throw invalidInput('ids', ids, 'a non-empty array of snapshot ids');
    }
    return withStorageErrors(async () => {
      const resolved = new Set<string>();
      for (const id of ids) resolved.add(await this.resolveSnapshotId(id));
      if (options.dryRun) return [...resolved];
      const release = await acquireLock(this.path, 'forget');
      try {
        for (const id of resolved) await removeDurably(join(this.path, 'snapshots', `${id}.json`));
      } finally {
        await release();
      }
      return [...resolved];
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
    const writer = new PackWriter(
      this.path,
      await this.packHasher(),
      this.engine.startWriteback?.bind(this.engine),
    );
    try {
      await clearDir(this.tmpDir);
      return await runBackup(this, writer, { paths, excludes, tags, options });
    } catch (error) {
      await writer.abandon();
      throw error;
    } finally {
      await release();
    }
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
        const source = new PackChunkReader(this, chunks);
        return await restoreSnapshot(source, snap, resolve(target), options);
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
        const stream = exportTar(new PackChunkReader(this, chunks), snap, options);
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
        // Checked for every group before anything is removed (a dry run is refused too).
        if (r.keep.length === 0) {
          const { hostname, paths } = group[0] as SnapshotInfo;
          throw keepsNothing(policy, { hostname, paths, snapshots: group.length });
        }
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
        ? { keep, remove, damaged, prune: await this.pruneAfterForget(remove) }
        : { keep, remove, damaged };
    }, this.path);
  }

  /**
   * `prune()` right after snapshots were forgotten: when it fails (a reader holds the
   * repository, a full disk), its error says that the snapshots are gone all the same and
   * prune is to be run again, instead of reading as if nothing had been done.
   */
  async pruneAfterForget(removed: string[]): Promise<PruneResult> {
    try {
      return await this.prune();
    } catch (error) {
      if (!(error instanceof AiosError) || removed.length === 0) throw error;
      const n = removed.length;
      throw new AiosError(
        error.code,
        `${n} snapshot${n === 1 ? ' was' : 's were'} removed (${removed.map((id) => id.slice(0, 12)).join(', ')}), but ${n === 1 ? 'its' : 'their'} data was not pruned: ${error.message}; run prune again later`,
        { cause: error, details: { ...error.details, removed } },
      );
    }
  }

  /** The hasher of pack ids: the engine's own when it has one (see `Engine`). */
  private async packHasher(): Promise<ContentHasher> {
    return this.engine.createPackHasher?.() ?? (await this.hashing.createHasher());
  }

  /**
   * Deletes data no snapshot uses, and only what it can prove unused (see `pruneRepository`),
   * plus leftovers of crashed runs.
   */
  prune(options: { signal?: AbortSignal } = {}): Promise<PruneResult> {
    return withStorageErrors(async () => {
      aborted(options.signal, 'prune');
      const release = await acquireLock(this.path, 'prune');
      const writer = new PackWriter(
        this.path,
        await this.packHasher(),
        this.engine.startWriteback?.bind(this.engine),
      );
      try {
        await clearDir(this.tmpDir);
        return await pruneRepository(
          this,
          writer,
          async () => (await writer.finish())?.pack,
          options.signal,
        );
      } catch (error) {
        await writer.abandon();
        throw error;
      } finally {
        await release();
      }
    }, this.path);
  }
}
