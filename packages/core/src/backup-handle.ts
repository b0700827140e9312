import { existsSync } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import {
  type BackupOptions,
  type BackupResult,
  DEFAULT_READ_DATA,
  type ForgetOptions,
  type ForgetResult,
  InPlaceSwap,
  initRepository,
  openRepository,
  type PruneResult,
  type Repository,
  type RestoreResult,
  type RetentionPolicy,
  readEntry,
  recoverSwaps,
  type SnapshotFile,
  type SnapshotList,
  SWAP_PREFIX,
  type SwapMove,
  storageError,
  type VerifyResult,
  writeStreamToPath,
} from '@aios/backup';
import { type DataStore, lockDatabase, openDataStore } from '@aios/data';
import type { BackupRecord, BackupStatus, Metrics } from '@aios/support';
import {
  type AiosConfig,
  AiosError,
  acquireLease,
  describeHolder,
  fsyncDir,
  isAiosError,
  type NativeMode,
  readOnlyCauseOf,
  readOnlyRefusal,
  removeStaleTemps,
  SECRETS_FILE_NAME,
  tempFileFor,
} from '@aios/utils';
import {
  DUMP_DIR,
  dumpEntry,
  dumpPath,
  inspectStore,
  type PostgresRestore,
  type PostgresStore,
  postgresOf,
  restoreDump,
} from './backup-postgres.js';
import { restoreSpaceError } from './backup-space.js';

/** Where the last verify result of a repository is kept (outside the repository format). */
const VERIFY_STATE = 'backup-verify.json';
/**
 * Where a backup stages its consistent copy of the database, inside the home directory:
 * the snapshot holds this copy instead of the live file and its WAL, which another process
 * may be writing (and checkpointing) while they are read.
 */
const DATABASE_COPY_DIR = '.database-copy';
/** Files SQLite keeps beside a database; a stale one beside a restored database corrupts it. */
const DATABASE_COMPANIONS = ['-wal', '-shm', '-journal'];
/**
 * Directories of a home that its backups leave out: the homes of a server's other tenants
 * (`aios serve` keeps each under `tenants/`, with a repository of its own, so one tenant's
 * snapshots never hold another's data) and uploads staged there while they are ingested.
 */
export const HOME_EXCLUDED_DIRS = ['tenants', '.uploads'];

/** Writes a consistent copy of the open database to the given path (`DataStore.snapshotTo`). */
export type DatabaseSnapshotter = (target: string) => Promise<unknown>;

/** The home, its database and the repository as the filesystem names them. */
export interface HomePaths {
  home: string;
  db: string;
  repo: string;
}

/**
 * A restore's outcome; `applied` is false when files could not be restored: nothing was
 * replaced in place, nothing was left under a target. `postgres`: what a restore in place loaded into the PostgreSQL store; `dumps`:
 * the PostgreSQL dumps a restore under a target wrote out.
 */
export type HomeRestoreResult = RestoreResult & {
  target: string;
  applied: boolean;
  postgres?: PostgresRestore;
  dumps?: string[];
};

/** A snapshot of a home, as `homeSnapshot` describes it. */
export interface HomeSnapshot extends HomeLayout {
  id: string;
  time: string;
}

/** What a snapshot of a home holds, relative to the home it was taken of. */
interface HomeLayout {
  /** The home the snapshot was taken of (its one path). */
  root: string;
  /** Where the database is in the restored tree: its consistent copy, or (older snapshots) the file. */
  database: string | undefined;
  /** The PostgreSQL dumps of the snapshot (`postgres/<database>/<schema>.sql`, beside the home's tree). */
  dumps: string[];
}

/** A path with its symlinks resolved as far as it exists; the rest is appended as given. */
async function realPath(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(error, abs);
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realPath(parent), basename(abs));
  }
}

/** The path of an absolute path in a snapshot: `/`-separated, without the leading `/`. */
function snapshotPath(abs: string): string {
  return abs
    .split(sep)
    .join('/')
    .replace(/^[a-zA-Z]:/, '')
    .replace(/^\/+/, '');
}

/** `path` relative to `dir` when it lies inside it, else undefined. */
function inside(dir: string, path: string): string | undefined {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : undefined;
}

async function isEmptyDir(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw storageError(error, path);
  }
}

/**
 * Refuses a restore target that is a file (or lies below one) with the rule it breaks,
 * instead of the system's ENOTDIR from reading it as a directory.
 */
async function requireDirectoryOrNothing(target: string): Promise<void> {
  const refuse = (what: string) =>
    new AiosError('INVALID_INPUT', `${target} ${what}: restore into a new or empty directory`, {
      details: { target },
    });
  try {
    if (!(await stat(target)).isDirectory()) throw refuse('is a file, not a directory');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw refuse('lies below a file');
    throw isAiosError(error) ? error : storageError(error, target);
  }
}

/** Gives a system error (a full disk, a read-only home...) its code; anything else as is. */
function coded(error: unknown): unknown {
  return isAiosError(error) || typeof (error as NodeJS.ErrnoException)?.code === 'string'
    ? storageError(error)
    : error;
}

/**
 * The backup repository of the system at `config.backup.repository`: opened on first use,
 * initialised by the first `create`. Backs up the data directory (a consistent copy of the
 * SQLite store, CARMA's index files, the config) and restores it in place.
 */
export class BackupHandle {
  private repo: Repository | undefined;
  private opening: Promise<Repository> | undefined;

  /**
   * With `metrics`, each create, restore, verify, forget and prune is recorded there
   * (`recordBackup`): its duration, its outcome (`ok`; `error` when it threw; `damaged` for
   * a verify that found damage, `incomplete` for a restore with files it could not restore),
   * and the bytes and chunks it reports.
   */
  constructor(
    readonly config: AiosConfig,
    private readonly native: NativeMode = config.native,
    readonly metrics?: Metrics,
    /** How to copy the database when this process has it open; otherwise it is opened briefly. */
    private readonly snapshotDatabase?: DatabaseSnapshotter,
  ) {}

  /** Runs one operation, recording it in `metrics` whether it succeeds or throws. */
  private async measured<T>(
    operation: string,
    run: () => Promise<T>,
    describe: (result: T) => Omit<BackupRecord, 'operation' | 'seconds'>,
  ): Promise<T> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let result: T;
    try {
      result = await run();
    } catch (error) {
      this.metrics?.recordBackup({ operation, outcome: 'error', seconds: seconds() });
      throw coded(error);
    }
    this.metrics?.recordBackup({ operation, seconds: seconds(), ...describe(result) });
    return result;
  }

  get path(): string {
    return resolve(this.config.backup.repository);
  }

  /** True when the repository has been initialised. */
  exists(): boolean {
    return existsSync(join(this.path, 'config.json'));
  }

  /** Opens the repository; with `create`, initialises it (or finishes an interrupted init). */
  async open(create = false): Promise<Repository> {
    // A repository removed while the process runs (a server) is opened again, or created
    // again by a create, instead of being written through a handle to what is gone.
    if (this.repo && !this.exists()) this.repo = undefined;
    if (this.repo) return this.repo;
    this.opening ??= (async () => {
      try {
        return await openRepository(this.path, { native: this.native });
      } catch (error) {
        if (create && isAiosError(error, 'REPO_NOT_FOUND')) {
          return await initRepository(this.path, { native: this.native });
        }
        throw error;
      }
    })();
    try {
      this.repo = await this.opening;
      return this.repo;
    } finally {
      this.opening = undefined;
    }
  }

  async init(): Promise<Repository> {
    this.repo = await initRepository(this.path, { native: this.native });
    return this.repo;
  }

  /**
   * The home, the database and the repository with symlinks resolved: a snapshot holds the
   * directory the home really is, never a link to it, and the excludes match its paths.
   */
  async paths(): Promise<HomePaths> {
    const [home, db, repo] = await Promise.all(
      [this.config.home, this.config.data.path, this.path].map((p) => realPath(p)),
    );
    return { home: home as string, db: db as string, repo: repo as string };
  }

  /** Paths excluded from a backup of the home directory (gitignore-style, relative to it). */
  excludes(paths: HomePaths): string[] {
    const out = ['*.lock/', '*.lock-owner', `/${SWAP_PREFIX}*`, `/${VERIFY_STATE}`];
    // API keys stay out of snapshots unless asked for (`backup.includeSecrets`).
    if (!this.config.backup.includeSecrets) out.push(`/${SECRETS_FILE_NAME}`);
    for (const dir of HOME_EXCLUDED_DIRS) out.push(`/${dir}/`);
    const rel = (path: string) => {
      const r = inside(paths.home, path);
      return r === undefined ? undefined : `/${r.split(sep).join('/')}`;
    };
    const repo = rel(paths.repo);
    if (repo) out.push(`${repo}/`);
    // The live database is backed up through its consistent copy (DATABASE_COPY_DIR).
    const db = rel(paths.db);
    if (db) for (const suffix of ['', ...DATABASE_COMPANIONS]) out.push(`${db}${suffix}`);
    return [...out, ...this.config.backup.excludes];
  }

  /**
   * Stages a consistent copy of the database in the home directory for the snapshot.
   * Returns the copy, or undefined when there is no database yet.
   */
  private async stageDatabase(paths: HomePaths): Promise<string | undefined> {
    if (!existsSync(paths.db)) return undefined;
    const dir = join(paths.home, DATABASE_COPY_DIR);
    await rm(dir, { recursive: true, force: true });
    // Not recursive: the home exists, and a recursive mkdir reports a read-only home as ENOENT.
    await mkdir(dir);
    const target = join(dir, basename(paths.db));
    if (this.snapshotDatabase) {
      await this.snapshotDatabase(target);
    } else {
      const data = await openDataStore({
        path: paths.db,
        native: this.native,
        operation: 'aios backup create',
      });
      try {
        await data.snapshotTo(target);
      } finally {
        await data.close();
      }
    }
    return target;
  }

  /**
   * Finishes restores in place that were killed (their staging folders), when no process
   * holds the database: a committed one is completed, an uncommitted one removed.
   */
  private async finishInterruptedRestores(paths: HomePaths): Promise<void> {
    let names: string[];
    try {
      names = await readdir(paths.home);
    } catch {
      return;
    }
    if (!names.some((n) => n.startsWith(SWAP_PREFIX))) return;
    let lock: Awaited<ReturnType<typeof lockDatabase>>;
    try {
      lock = await lockDatabase(paths.db, {
        mode: 'exclusive',
        operation: 'aios backup (finishing an interrupted restore)',
      });
    } catch (error) {
      if (isAiosError(error, 'DATA_BUSY')) return; // the database is in use: next time
      throw error;
    }
    try {
      await recoverSwaps(paths.home);
    } finally {
      await lock.release();
    }
  }

  /** A snapshot of the data directory (the repository is initialised on first use). */
  create(
    options: Pick<BackupOptions, 'tags' | 'signal' | 'onProgress'> = {},
  ): Promise<BackupResult> {
    return this.measured(
      'create',
      async () => {
        // A PostgreSQL store is reached (and pg_dump found) before anything is written.
        const streams = await this.postgresDumps();
        const repo = await this.open(true);
        await mkdir(resolve(this.config.home), { recursive: true });
        const paths = await this.paths();
        // Held before the database copy is staged: a second create would otherwise remove
        // or rewrite the copy this one is reading before the repository's lock refused it.
        const lease = await holdBackupLock(paths.home);
        let staged: string | undefined;
        try {
          await this.finishInterruptedRestores(paths);
          staged = await this.stageDatabase(paths);
          const result = await repo.backup([paths.home], {
            excludes: this.excludes(paths),
            tags: options.tags ?? [],
            streams,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          });
          if (staged) await this.requireDatabase(repo, result, staged);
          return result;
        } finally {
          if (staged) await rm(dirname(staged), { recursive: true, force: true });
          await lease.release();
        }
      },
      ({ snapshot }) => ({ bytes: snapshot.summary.bytes, chunks: snapshot.summary.chunksNew }),
    );
  }

  /**
   * The dump of the PostgreSQL store (`data.url`) that a snapshot of the home takes, none
   * for an SQLite home or a database that holds no store yet.
   */
  private async postgresDumps() {
    const conn = postgresOf(this.config);
    if (!conn) return [];
    const store = await inspectStore(this.config, conn);
    return store.exists ? [await dumpEntry(store)] : [];
  }

  /** A snapshot of a home with a database that does not hold it is removed and refused. */
  private async requireDatabase(repo: Repository, result: BackupResult, copy: string) {
    const want = snapshotPath(copy);
    const snap = await repo.loadSnapshot(result.snapshot.id);
    if (snap.entries.some((e) => e.path === want && e.type === 'file')) return;
    await repo.forgetSnapshots([result.snapshot.id]);
    const why = result.warnings.find((w) => w.path === copy);
    throw new AiosError(
      'BACKUP_INCOMPLETE',
      `the snapshot did not get the database copy ${copy}${why ? ` (${why.message})` : ''}; it was discarded`,
      { details: { path: copy } },
    );
  }

  verify(readData = DEFAULT_READ_DATA, signal?: AbortSignal): Promise<VerifyResult> {
    return this.measured(
      'verify',
      async () => {
        const repo = await this.open();
        const result = await repo.verify({ readData, ...(signal ? { signal } : {}) });
        const state = {
          time: Date.now(),
          ok: result.ok,
          readData: result.readData,
          checkedPacks: result.checkedPacks,
          packs: result.packs,
        };
        await writeFile(join(this.config.home, VERIFY_STATE), `${JSON.stringify(state)}\n`).catch(
          () => undefined, // a read-only home still verifies
        );
        return result;
      },
      (result) => ({ outcome: result.ok ? 'ok' : 'damaged', chunks: result.checkedChunks }),
    );
  }

  /** The snapshots, and the damaged snapshot files listed apart. */
  async list(): Promise<SnapshotList> {
    try {
      return await (await this.open()).listSnapshots();
    } catch (error) {
      throw coded(error);
    }
  }

  /** Removes the snapshots outside `policy` (and with `prune`, the data only they used). */
  forget(policy: RetentionPolicy, options: ForgetOptions = {}): Promise<ForgetResult> {
    return this.measured(
      'forget',
      async () => (await this.open()).forget(policy, options),
      (result) =>
        result.prune ? { bytes: result.prune.bytesFreed, chunks: result.prune.chunksRemoved } : {},
    );
  }

  /**
   * Removes the given snapshots (ids, prefixes, `latest`...; damaged ones too), then prunes
   * if asked; with `dryRun`, only says which it would remove.
   */
  forgetSnapshots(
    ids: string[],
    options: { prune?: boolean; dryRun?: boolean } = {},
  ): Promise<{ remove: string[]; prune?: PruneResult }> {
    return this.measured(
      'forget',
      async () => {
        const repo = await this.open();
        const remove = await repo.forgetSnapshots(ids, { dryRun: options.dryRun === true });
        return options.prune && !options.dryRun
          ? { remove, prune: await repo.pruneAfterForget(remove) }
          : { remove };
      },
      (result) =>
        result.prune ? { bytes: result.prune.bytesFreed, chunks: result.prune.chunksRemoved } : {},
    );
  }

  /**
   * Deletes the data no snapshot uses, and leftovers of interrupted runs; `signal` stops it
   * (`ABORTED`) while nothing has been removed yet.
   */
  prune(signal?: AbortSignal): Promise<PruneResult> {
    return this.measured(
      'prune',
      async () => (await this.open()).prune(signal ? { signal } : {}),
      (result) => ({ bytes: result.bytesFreed, chunks: result.chunksRemoved }),
    );
  }

  /**
   * Restores a snapshot of the data directory in place (see `restoreInPlace`), or with
   * `target`, as a home of its own under that (new or empty) directory, touching nothing else.
   * The snapshot's home is mapped onto this one: a home that moved restores all the same.
   */
  restore(
    snapshot: string,
    target?: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<HomeRestoreResult> {
    return this.measured(
      'restore',
      async () => {
        const repo = await this.open();
        const snap = await repo.loadSnapshot(snapshot);
        const paths = await this.paths();
        const layout = homeLayout(snap, paths);
        // Only reading the snapshot can be stopped: nothing is replaced before it is whole.
        const signal = options.signal;
        return target
          ? this.restoreToTarget(repo, snap, layout, paths, resolve(target), signal)
          : this.restoreInPlace(repo, snap, layout, paths, signal);
      },
      (result) => ({
        outcome: result.errors.length > 0 ? 'incomplete' : 'ok',
        bytes: result.bytes,
      }),
    );
  }

  /**
   * Restores in place, holding the database exclusively throughout (`DATA_BUSY` while any
   * process has it open). The snapshot is restored into a staging folder in the home, its
   * database copy put where the database goes and checked; only then are the home's entries
   * replaced, by a journaled swap that a killed restore leaves to be finished (never
   * undone) by the next restore or backup. Entries of the home that the snapshot does not
   * hold (the repository, files added since) are left alone.
   */
  private async restoreInPlace(
    repo: Repository,
    snap: SnapshotFile & { id: string },
    layout: HomeLayout,
    paths: HomePaths,
    signal?: AbortSignal,
  ): Promise<HomeRestoreResult> {
    await mkdir(paths.home, { recursive: true });
    const conn = postgresOf(this.config);
    const server = conn ? await holdServerLock(paths.home) : undefined;
    const lock = await lockDatabase(paths.db, {
      mode: 'exclusive',
      operation: 'aios backup restore',
    }).catch(async (error: unknown) => {
      await server?.release();
      throw error;
    });
    try {
      await recoverSwaps(paths.home);
      const store = conn ? await inspectStore(this.config, conn) : undefined;
      const dump = store ? snapshotDump(snap, layout, store) : undefined;
      if (!store && !layout.database && existsSync(paths.db)) {
        throw new AiosError(
          'SNAPSHOT_NO_DATABASE',
          `snapshot ${snap.id.slice(0, 12)} holds no database; restoring it in place would leave ${paths.home} without its database (restore it with --target to look at it)`,
          { details: { snapshot: snap.id } },
        );
      }
      const swap = await InPlaceSwap.begin(paths.home);
      try {
        const result = await repo.restore(snap.id, swap.staging, {
          root: layout.root,
          ...(signal ? { signal } : {}),
        });
        if (result.errors.length > 0) {
          await swap.discard();
          return { ...result, target: paths.home, applied: false };
        }
        // The database is loaded (in one transaction, checked) before any file is replaced.
        let postgres: PostgresRestore | undefined;
        if (store && dump) {
          const reader = await readEntry(repo, snap.id, dump);
          try {
            postgres = await restoreDump(store, dump, reader.data);
          } finally {
            await reader.close();
          }
        }
        const moves: SwapMove[] = [];
        const db = await this.placeDatabase(swap.staging, layout, paths, swap);
        // A database at the top of the home (or outside it) is replaced on its own, in one
        // atomic rename right after its live companions (a stale WAL would corrupt it) are
        // set aside; one deeper in the home comes with the directory holding it.
        if (db && dirname(db) !== swap.staging && inside(swap.staging, db) !== undefined) {
          for (const suffix of DATABASE_COMPANIONS) moves.push({ to: `${paths.db}${suffix}` });
        } else if (db) {
          moves.push({ from: db, to: paths.db, companions: DATABASE_COMPANIONS });
        }
        const carried = new Set(moves.map((m) => m.from));
        for (const name of await readdir(swap.staging)) {
          const from = join(swap.staging, name);
          if (!carried.has(from)) moves.push({ from, to: join(paths.home, name) });
        }
        await swap.commit(moves);
        return { ...result, target: paths.home, applied: true, ...(postgres ? { postgres } : {}) };
      } catch (error) {
        await swap.discard();
        throw await restoreSpaceError(error, paths.home, snap.summary.bytes);
      }
    } finally {
      await lock.release();
      await server?.release();
    }
  }

  /**
   * Restores the snapshot as a home of its own under `target`: database in place. It is
   * written into a temporary directory beside the target, renamed to the target only once
   * every file, the database's check and the dumps succeeded: a restore that fails leaves
   * the target as it was (absent or empty), never a part of a home that opens as a whole one.
   */
  private async restoreToTarget(
    repo: Repository,
    snap: SnapshotFile & { id: string },
    layout: HomeLayout,
    paths: HomePaths,
    target: string,
    signal?: AbortSignal,
  ): Promise<HomeRestoreResult> {
    const notEmpty = () =>
      new AiosError(
        'TARGET_NOT_EMPTY',
        `${target} is not empty; restore into a new or empty directory`,
        { details: { target } },
      );
    await requireDirectoryOrNothing(target);
    if (!(await isEmptyDir(target))) throw notEmpty();
    // The directory a symlinked target points to is the one replaced, not the link.
    const dest = await realPath(target);
    const parent = dirname(dest);
    await mkdir(parent, { recursive: true });
    // Named as atomic writes name their temporary files (`.<name>.<pid>.<random>.tmp`); the
    // staging of a restore that was killed is removed first, or it would stay there unseen.
    await removeStaleTemps(dest);
    const staging = tempFileFor(dest);
    await mkdir(staging);
    let placed = false;
    try {
      // An empty target that exists keeps its permissions once the staging replaces it.
      const existing = await stat(dest).catch(() => undefined);
      if (existing) await chmod(staging, existing.mode & 0o7777);
      const result = await repo.restore(snap.id, staging, {
        root: layout.root,
        ...(signal ? { signal } : {}),
      });
      if (result.errors.length > 0) return { ...result, target, applied: false };
      await this.placeDatabase(staging, layout, paths, undefined);
      // A PostgreSQL dump is written out as the file it is (psql loads it), beside the home's files.
      const dumps: string[] = [];
      for (const entry of layout.dumps) {
        const path = join(staging, ...entry.split('/'));
        await mkdir(dirname(path), { recursive: true });
        const reader = await readEntry(repo, snap.id, entry);
        await writeStreamToPath(Readable.from(reader.data), path).finally(() => reader.close());
        dumps.push(join(target, ...entry.split('/')));
      }
      await moveInto(staging, dest, notEmpty);
      placed = true;
      await fsyncDir(parent);
      return { ...result, target, applied: true, ...(dumps.length > 0 ? { dumps } : {}) };
    } catch (error) {
      throw await restoreSpaceError(error, parent, snap.summary.bytes);
    } finally {
      // Whatever did not become the target goes: nothing half restored is left beside it.
      if (!placed) await rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * Puts the restored database (the snapshot's copy, or an older snapshot's file) in the
   * restored tree `tree` where the database lies in the home (`paths`); a database outside
   * the home goes beside the live one for a swap, at the top of the tree otherwise. Checks
   * that it opens and passes SQLite's integrity check. Returns its path, or undefined
   * without a database.
   */
  private async placeDatabase(
    tree: string,
    layout: HomeLayout,
    paths: HomePaths,
    swap: InPlaceSwap | undefined,
  ): Promise<string | undefined> {
    if (!layout.database) return undefined;
    const source = join(tree, ...layout.database.split('/'));
    if (!existsSync(source)) return undefined; // not restored (an include left it out)
    const rel = inside(paths.home, paths.db);
    let place: string;
    if (rel !== undefined) place = join(tree, rel);
    else if (swap) {
      // Beside the live database, so that the final rename stays on one filesystem.
      place = join(dirname(paths.db), `${basename(swap.dir)}-${basename(paths.db)}`);
      await swap.track(place);
    } else place = join(tree, basename(paths.db));
    if (place !== source) {
      await mkdir(dirname(place), { recursive: true });
      await rename(source, place).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EXDEV') throw error;
        await copyFile(source, place);
        await rm(source);
      });
    }
    await rm(join(tree, DATABASE_COPY_DIR), { recursive: true, force: true });
    await checkDatabase(place, this.native);
    // The check closed the database: SQLite checkpointed and removed its WAL. An empty one
    // may stay; one with content would have to travel with the file, and none should.
    for (const suffix of DATABASE_COMPANIONS) {
      const companion = `${place}${suffix}`;
      if (!existsSync(companion)) continue;
      if (suffix === '-wal' && (await stat(companion)).size > 0) {
        throw new AiosError(
          'BACKUP_DATABASE_DAMAGED',
          `the restored database kept a write-ahead log after its check (${companion}); nothing was replaced`,
          { details: { path: companion } },
        );
      }
      await rm(companion, { force: true });
    }
    return place;
  }

  /**
   * A snapshot id from a reference: `latest` (the newest snapshot), `latest~N` (the Nth
   * before it), or an id or unique prefix of one. The repository resolves it
   * (`resolveSnapshotId`), as it does for every operation that takes a snapshot.
   */
  async resolveSnapshot(ref: string): Promise<string> {
    try {
      return await (await this.open()).resolveSnapshotId(ref);
    } catch (error) {
      throw coded(error);
    }
  }

  /** A snapshot of a home: its id and time, the home it was taken of, where its database is. */
  async homeSnapshot(snapshot: string): Promise<HomeSnapshot> {
    const repo = await this.open();
    const snap = await repo.loadSnapshot(snapshot);
    const layout = homeLayout(snap, await this.paths());
    return { id: snap.id, time: snap.time, ...layout };
  }

  /**
   * Runs `fn` on the database of a snapshot, restored alone into a temporary directory
   * that is removed afterwards (`undefined` for a snapshot without a database). The live
   * home is not touched.
   */
  async withSnapshotDatabase<T>(
    snapshot: HomeSnapshot,
    fn: (data: DataStore | undefined) => Promise<T>,
  ): Promise<T> {
    if (!snapshot.database) return fn(undefined);
    const repo = await this.open();
    const dir = await mkdtemp(join(tmpdir(), 'aios-snapshot-db-'));
    try {
      const path = `/${snapshotPath(snapshot.root)}/${snapshot.database}`;
      const result = await repo.restore(snapshot.id, dir, {
        root: snapshot.root,
        include: [path.replace(/[\\*?[\]!#]/g, '\\$&')],
      });
      const first = result.errors[0];
      if (first) {
        throw new AiosError(first.code, `${first.path}: ${first.message}`, {
          details: { path: first.path },
        });
      }
      const data = await openDataStore({
        path: join(dir, ...snapshot.database.split('/')),
        native: this.native,
        operation: 'aios backup (reading a snapshot)',
      });
      try {
        return await fn(data);
      } finally {
        await data.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The last snapshot and the last verify, for the `backup:age` health check. */
  async lastBackup(): Promise<BackupStatus | null> {
    if (!this.exists()) return null;
    const repo = await this.open();
    const last = (await repo.snapshots()).at(-1);
    if (!last) return null;
    let state: { time?: unknown; ok?: unknown; readData?: unknown; checkedPacks?: unknown };
    try {
      state = JSON.parse(await readFile(join(this.config.home, VERIFY_STATE), 'utf8'));
    } catch {
      return { time: new Date(last.time), verified: null }; // never verified
    }
    if (state.ok === false) return { time: new Date(last.time), verified: false };
    if (typeof state.time !== 'number' || state.time < new Date(last.time).getTime()) {
      return { time: new Date(last.time), verified: null, detail: 'not since the last backup' };
    }
    // A verify that read no pack data checked the structure only: it proves nothing about
    // the bytes, so the backup does not count as verified.
    if (state.readData === 0 || state.checkedPacks === 0) {
      return {
        time: new Date(last.time),
        verified: null,
        detail: 'the last verify read no pack data (structure only)',
      };
    }
    return {
      time: new Date(last.time),
      verified: state.ok === true,
      ...(typeof state.readData === 'number'
        ? { detail: `${state.readData}% of the packs read back` }
        : {}),
    };
  }
}

/** Where the home and its database are in a snapshot; refuses one that is not of a home. */
function homeLayout(snap: SnapshotFile & { id: string }, paths: HomePaths): HomeLayout {
  const id = snap.id.slice(0, 12);
  if (snap.paths.length !== 1) {
    throw new AiosError(
      'SNAPSHOT_NOT_A_HOME',
      `snapshot ${id} holds ${snap.paths.length} paths; a snapshot of a home holds one`,
      { details: { snapshot: snap.id } },
    );
  }
  const root = snap.paths[0] as string;
  const rootRel = snapshotPath(root);
  const self = snap.entries.find((e) => e.path === rootRel);
  if (self?.type !== 'dir') {
    throw new AiosError(
      'SNAPSHOT_NOT_A_HOME',
      `snapshot ${id} holds ${root} as ${self ? `a ${self.type}` : 'nothing'}, not a home directory${self?.type === 'symlink' ? ' (it was taken through a symlink before those were resolved)' : ''}`,
      { details: { snapshot: snap.id } },
    );
  }
  const files = new Set(
    snap.entries
      .filter((e) => e.type === 'file' && e.path.startsWith(`${rootRel}/`))
      .map((e) => e.path.slice(rootRel.length + 1)),
  );
  const name = basename(paths.db);
  const copy = `${DATABASE_COPY_DIR}/${name}`;
  const live = inside(paths.home, paths.db)?.split(sep).join('/');
  const anyCopy = [...files].find((f) => f.startsWith(`${DATABASE_COPY_DIR}/`));
  const database = files.has(copy)
    ? copy
    : anyCopy !== undefined
      ? anyCopy
      : live !== undefined && files.has(live)
        ? live
        : undefined;
  const dumps = snap.entries
    .filter(
      (e) => e.type === 'file' && e.path.startsWith(`${DUMP_DIR}/`) && e.path.endsWith('.sql'),
    )
    .map((e) => e.path);
  return { root, database, dumps };
}

/**
 * The snapshot's dump of this store, refused when the snapshot holds none
 * (`SNAPSHOT_NO_DATABASE`) or only another database's or schema's (`SNAPSHOT_OTHER_DATABASE`).
 */
function snapshotDump(
  snap: SnapshotFile & { id: string },
  layout: HomeLayout,
  store: PostgresStore,
): string {
  const want = dumpPath(store);
  if (layout.dumps.includes(want)) return want;
  const id = snap.id.slice(0, 12);
  if (layout.dumps.length === 0) {
    throw new AiosError(
      'SNAPSHOT_NO_DATABASE',
      `snapshot ${id} holds no dump of a PostgreSQL store; restoring it in place would leave ${store.conn.url} as it is beside older files (restore it with --target to look at it)`,
      { details: { snapshot: snap.id } },
    );
  }
  throw new AiosError(
    'SNAPSHOT_OTHER_DATABASE',
    `snapshot ${id} holds ${layout.dumps.join(', ')}, not ${want} (the store at ${store.conn.url}, schema ${store.schema}); restore it with --target and load the dump with psql`,
    { details: { snapshot: snap.id, dumps: layout.dumps } },
  );
}

/**
 * The server's lease on the home, held by a restore in place of a PostgreSQL home: the
 * store lives on the server, so no lease on a database file shows that a server uses it.
 */
async function holdServerLock(home: string) {
  return acquireLease('exclusive', {
    dir: join(home, '.serve.lock'),
    operation: 'aios backup restore',
    busy: (holder) =>
      new AiosError(
        'DATA_BUSY',
        `a server runs on ${home} (${describeHolder(holder)}): stop it, then restore`,
        { details: { home, pid: holder.pid } },
      ),
  });
}

/**
 * The lock of a home's backups (`<home>/.backup.lock`, left out of snapshots as every
 * `*.lock/` is): one create at a time stages the home's database copy, whichever
 * repository each writes to. A second gets `REPO_LOCKED`, naming the first. A home that
 * cannot be written (read-only) is refused here, before anything: a create stages the copy
 * of its database in it.
 */
async function holdBackupLock(home: string) {
  try {
    return await takeBackupLock(home);
  } catch (error) {
    const cause = readOnlyCauseOf(error);
    if (cause === undefined) throw error;
    throw readOnlyRefusal(
      home,
      'the AIOS home',
      cause,
      '`aios backup create` (it stages a copy of the database in the home)',
      error,
    );
  }
}

function takeBackupLock(home: string) {
  return acquireLease('exclusive', {
    dir: join(home, '.backup.lock'),
    operation: 'aios backup create',
    busy: (holder) =>
      new AiosError(
        'REPO_LOCKED',
        `a backup of ${home} is already running: ${describeHolder(holder)}, since ${holder.time}`,
        { details: { home, holder } },
      ),
  });
}

/**
 * Renames the directory `from` to `to`, which is absent or an empty directory (POSIX
 * renames over an empty one; elsewhere it is removed first). `to` that is not empty
 * (written to meanwhile) is left alone: `busy()` is thrown.
 */
async function moveInto(from: string, to: string, busy: () => AiosError): Promise<void> {
  try {
    await rename(from, to);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY') throw busy();
    if (code !== 'EEXIST' && code !== 'EPERM' && code !== 'EISDIR') throw storageError(error, to);
  }
  try {
    await rmdir(to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTEMPTY') throw busy();
    throw storageError(error, to);
  }
  await rename(from, to).catch((error: unknown) => {
    throw storageError(error, to);
  });
}

/** Opens a restored database and runs SQLite's integrity check on it. */
async function checkDatabase(path: string, native: NativeMode): Promise<void> {
  let verdict: string;
  try {
    const data = await openDataStore({
      path,
      native,
      operation: 'aios backup restore (checking the restored database)',
    });
    try {
      verdict = await data.integrityCheck();
    } finally {
      await data.close();
    }
  } catch (error) {
    throw new AiosError(
      'BACKUP_DATABASE_DAMAGED',
      `the restored database does not open (${error instanceof Error ? error.message : String(error)}); nothing was replaced`,
      { cause: error, details: { path } },
    );
  } finally {
    // The check's lease folder is not part of what is restored.
    await rm(`${path}.lease.lock`, { recursive: true, force: true });
  }
  if (verdict !== 'ok') {
    throw new AiosError(
      'BACKUP_DATABASE_DAMAGED',
      `the restored database fails its integrity check (${verdict.slice(0, 200)}); nothing was replaced`,
      { details: { path } },
    );
  }
}
