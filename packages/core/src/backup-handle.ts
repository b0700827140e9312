import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type BackupResult,
  type ForgetOptions,
  type ForgetResult,
  initRepository,
  openRepository,
  type PruneResult,
  type Repository,
  type RestoreResult,
  type RetentionPolicy,
  type VerifyResult,
} from '@aios/backup';
import { openDataStore } from '@aios/data';
import type { BackupRecord, BackupStatus, Metrics } from '@aios/support';
import { type AiosConfig, AiosError, type NativeMode } from '@aios/utils';

/** Where the last verify result of a repository is kept (outside the repository format). */
const VERIFY_STATE = 'backup-verify.json';
/**
 * Where a backup stages its consistent copy of the database, inside the home directory:
 * the snapshot holds this copy instead of the live file and its WAL, which another process
 * may be writing (and checkpointing) while they are read.
 */
const DATABASE_COPY_DIR = '.database-copy';
const DATABASE_COMPANIONS = ['', '-wal', '-shm', '-journal'];

/** Writes a consistent copy of the open database to the given path (`DataStore.snapshotTo`). */
export type DatabaseSnapshotter = (target: string) => Promise<unknown>;

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
    private readonly native: NativeMode = config.native as NativeMode,
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
      throw error;
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

  /** Opens the repository; with `create`, initialises it when it does not exist yet. */
  async open(create = false): Promise<Repository> {
    if (this.repo) return this.repo;
    this.opening ??= (async () => {
      try {
        return await openRepository(this.path, { native: this.native });
      } catch (error) {
        if (create && (error as { code?: string }).code === 'REPO_NOT_FOUND') {
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

  /** Paths excluded from a backup of the home directory (gitignore-style, relative to it). */
  excludes(): string[] {
    const home = resolve(this.config.home);
    const out = ['*.lock/', '*.lock-owner', '.restore-*/', `/${VERIFY_STATE}`];
    const inside = (path: string) => {
      const rel = relative(home, path);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
        ? `/${rel.split(sep).join('/')}`
        : undefined;
    };
    const repo = inside(this.path);
    if (repo) out.push(`${repo}/`);
    // The live database is backed up through its consistent copy (DATABASE_COPY_DIR).
    const db = inside(resolve(this.config.data.path));
    if (db) for (const suffix of DATABASE_COMPANIONS) out.push(`${db}${suffix}`);
    return [...out, ...this.config.backup.excludes];
  }

  /**
   * Stages a consistent copy of the database in the home directory for the snapshot.
   * Returns the staging directory, or undefined when there is no database yet.
   */
  private async stageDatabase(home: string): Promise<string | undefined> {
    const dbPath = resolve(this.config.data.path);
    if (!existsSync(dbPath)) return undefined;
    const dir = join(home, DATABASE_COPY_DIR);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const target = join(dir, basename(dbPath));
    if (this.snapshotDatabase) {
      await this.snapshotDatabase(target);
    } else {
      const data = await openDataStore({ path: dbPath, native: this.native });
      try {
        await data.snapshotTo(target);
      } finally {
        await data.close();
      }
    }
    return dir;
  }

  /** A snapshot of the data directory (the repository is initialised on first use). */
  create(options: { tags?: string[] } = {}): Promise<BackupResult> {
    return this.measured(
      'create',
      async () => {
        const repo = await this.open(true);
        const home = resolve(this.config.home);
        await mkdir(home, { recursive: true });
        const staged = await this.stageDatabase(home);
        try {
          return await repo.backup([home], {
            excludes: this.excludes(),
            tags: options.tags ?? [],
          });
        } finally {
          if (staged) await rm(staged, { recursive: true, force: true });
        }
      },
      ({ snapshot }) => ({ bytes: snapshot.summary.bytes, chunks: snapshot.summary.chunksNew }),
    );
  }

  verify(readData = 0): Promise<VerifyResult> {
    return this.measured(
      'verify',
      async () => {
        const repo = await this.open();
        const result = await repo.verify({ readData });
        await writeFile(
          join(this.config.home, VERIFY_STATE),
          `${JSON.stringify({ time: Date.now(), ok: result.ok })}\n`,
        );
        return result;
      },
      (result) => ({ outcome: result.ok ? 'ok' : 'damaged', chunks: result.checkedChunks }),
    );
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

  /** Deletes the data no snapshot uses, and leftovers of interrupted runs. */
  prune(): Promise<PruneResult> {
    return this.measured(
      'prune',
      async () => (await this.open()).prune(),
      (result) => ({ bytes: result.bytesFreed, chunks: result.chunksRemoved }),
    );
  }

  /**
   * Restores a snapshot of the data directory in place: restored under a staging directory,
   * then each top-level entry replaces the current one (the cores must not be open).
   * With `target`, restores under that directory instead and touches nothing else.
   */
  restore(snapshot: string, target?: string): Promise<RestoreResult & { target: string }> {
    return this.measured(
      'restore',
      () => this.restoreUnmeasured(snapshot, target),
      (result) => ({
        outcome: result.errors.length > 0 ? 'incomplete' : 'ok',
        bytes: result.bytes,
      }),
    );
  }

  private async restoreUnmeasured(
    snapshot: string,
    target?: string,
  ): Promise<RestoreResult & { target: string }> {
    const repo = await this.open();
    if (target) return { ...(await repo.restore(snapshot, target)), target: resolve(target) };
    const home = resolve(this.config.home);
    await refuseWhileOpen(resolve(this.config.data.path));
    const staging = join(home, `.restore-${process.pid}-${Date.now()}`);
    try {
      const result = await repo.restore(snapshot, staging);
      if (result.errors.length > 0) return { ...result, target: home };
      const restored = join(staging, relative(resolve('/'), home));
      const dbPath = resolve(this.config.data.path);
      const copy = join(restored, DATABASE_COPY_DIR, basename(dbPath));
      const hasCopy = existsSync(copy);
      const dbName = relative(home, dbPath);
      // A stale WAL beside a restored database would corrupt it: remove the database's
      // companions first, whether or not the snapshot has them.
      if (hasCopy || !dbName.startsWith('..')) {
        for (const suffix of DATABASE_COMPANIONS) {
          await rm(`${dbPath}${suffix}`, { recursive: true, force: true });
        }
      }
      if (hasCopy) {
        // Snapshots hold a consistent copy of the database (see DATABASE_COPY_DIR).
        await mkdir(dirname(dbPath), { recursive: true });
        await rename(copy, dbPath);
        await rm(join(restored, DATABASE_COPY_DIR), { recursive: true, force: true });
      }
      const entries = existsSync(restored) ? await readdir(restored) : [];
      for (const name of entries) {
        await rm(join(home, name), { recursive: true, force: true });
        await rename(join(restored, name), join(home, name));
      }
      return { ...result, target: home };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** The last snapshot and the last verify, for the `backup:age` health check. */
  async lastBackup(): Promise<BackupStatus | null> {
    if (!this.exists()) return null;
    const repo = await this.open();
    const last = (await repo.snapshots()).at(-1);
    if (!last) return null;
    let verified: boolean | null = null;
    try {
      const state = JSON.parse(await readFile(join(this.config.home, VERIFY_STATE), 'utf8'));
      if (typeof state.ok === 'boolean' && state.time >= new Date(last.time).getTime()) {
        verified = state.ok;
      } else if (state.ok === false) verified = false;
    } catch {
      // never verified
    }
    return { time: new Date(last.time), verified };
  }
}

/**
 * Fails with `DATA_BUSY` when a live process holds the data store's js-implementation lock
 * (`<db>.lock-owner`). The native implementation's SQLite locks cannot be seen from here.
 */
async function refuseWhileOpen(dbPath: string): Promise<void> {
  let pid: number;
  try {
    if (!existsSync(`${dbPath}.lock`)) return;
    pid = Number.parseInt(await readFile(`${dbPath}.lock-owner`, 'utf8'), 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return; // a stale lock
  }
  throw new AiosError(
    'DATA_BUSY',
    `${dbPath} is open in process ${pid}; close it before restoring in place (or use --target)`,
    { details: { pid } },
  );
}
