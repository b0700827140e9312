import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  type BackupResult,
  initRepository,
  openRepository,
  type Repository,
  type RestoreResult,
  type VerifyResult,
} from '@aios/backup';
import type { Memory } from '@aios/carma';
import type { DataStore } from '@aios/data';
import { ChatClient, chatClientOptionsFromConfig, type OpenedLuna, openLuna } from '@aios/luna';
import {
  type BackupStatus,
  backupCheck,
  createHealthMonitor,
  databaseCheck,
  type HealthMonitor,
  Metrics,
} from '@aios/support';
import {
  type AiosConfig,
  AiosError,
  type ImplementationReport,
  invalidInput,
  loadConfig,
  type NativeMode,
} from '@aios/utils';
import { CORES } from './cores.js';

export interface CreateAiosOptions {
  /** Data directory (default `$AIOS_HOME` or ~/.aios); with `config`, it must be the config's home. */
  home?: string;
  /** A loaded config; default `loadConfig()` (with `home` as an override). */
  config?: AiosConfig;
  /** Never talk to a language model: every answer is the offline, extractive one. */
  offline?: boolean;
  /** Timeout of one LM Studio / Ollama probe when `luna.llm.baseUrl` is unset (default 400 ms). */
  probeTimeoutMs?: number;
}

/** The whole system: Luna on CARMA and Data, Backup, and Support's health and metrics. */
export interface Aios {
  readonly config: AiosConfig;
  readonly home: string;
  readonly luna: OpenedLuna;
  readonly memory: Memory;
  readonly data: DataStore;
  readonly health: HealthMonitor;
  readonly metrics: Metrics;
  readonly backup: BackupHandle;
  /** Luna's `ask`, recording the request, its tokens and the retrieval time as metrics. */
  ask(question: string, options?: Parameters<OpenedLuna['ask']>[1]): ReturnType<OpenedLuna['ask']>;
  /** Each core's implementation report (unavailable cores are skipped). */
  reports(): ImplementationReport[];
  /** Flushes and closes every core; later calls return the same promise. */
  close(): Promise<void>;
}

/** Where the last verify result of a repository is kept (outside the repository format). */
const VERIFY_STATE = 'backup-verify.json';

/** Implementation reports of every core that loads in this mode. */
export function coreReports(mode: NativeMode): ImplementationReport[] {
  const reports: ImplementationReport[] = [];
  for (const core of CORES) {
    try {
      reports.push(core.implementation(mode));
    } catch {
      // reported as unavailable by `coreStatus`; `native:loaded` sees the rest
    }
  }
  return reports;
}

/** Loads the config with `home` as the highest layer. */
export function resolveConfig(options: Pick<CreateAiosOptions, 'home' | 'config'>): AiosConfig {
  if (options.config) {
    // Paths derived from `home` (data.path, backup.repository) are already in the config.
    if (options.home && resolve(options.home) !== resolve(options.config.home)) {
      throw invalidInput(
        'home',
        options.home,
        `the config's home (${options.config.home}) or no home`,
      );
    }
    return options.config;
  }
  return loadConfig(options.home ? { overrides: { home: options.home } } : {}).config;
}

/**
 * The backup repository of the system at `config.backup.repository`: opened on first use,
 * initialised by the first `create`. Backs up the data directory (the SQLite store, CARMA,
 * the config) and restores it in place.
 */
export class BackupHandle {
  private repo: Repository | undefined;
  private opening: Promise<Repository> | undefined;

  constructor(
    readonly config: AiosConfig,
    private readonly native: NativeMode = config.native as NativeMode,
  ) {}

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
    const rel = relative(home, this.path);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) {
      out.push(`/${rel.split(sep).join('/')}/`);
    }
    return [...out, ...this.config.backup.excludes];
  }

  /** A snapshot of the data directory (the repository is initialised on first use). */
  async create(options: { tags?: string[] } = {}): Promise<BackupResult> {
    const repo = await this.open(true);
    await mkdir(this.config.home, { recursive: true });
    return repo.backup([resolve(this.config.home)], {
      excludes: this.excludes(),
      tags: options.tags ?? [],
    });
  }

  async verify(readData = 0): Promise<VerifyResult> {
    const repo = await this.open();
    const result = await repo.verify({ readData });
    await writeFile(
      join(this.config.home, VERIFY_STATE),
      `${JSON.stringify({ time: Date.now(), ok: result.ok })}\n`,
    );
    return result;
  }

  /**
   * Restores a snapshot of the data directory in place: restored under a staging directory,
   * then each top-level entry replaces the current one (the cores must not be open).
   * With `target`, restores under that directory instead and touches nothing else.
   */
  async restore(snapshot: string, target?: string): Promise<RestoreResult & { target: string }> {
    const repo = await this.open();
    if (target) return { ...(await repo.restore(snapshot, target)), target: resolve(target) };
    const home = resolve(this.config.home);
    await refuseWhileOpen(resolve(this.config.data.path));
    const staging = join(home, `.restore-${process.pid}-${Date.now()}`);
    try {
      const result = await repo.restore(snapshot, staging);
      if (result.errors.length > 0) return { ...result, target: home };
      const restored = join(staging, relative(resolve('/'), home));
      const entries = existsSync(restored) ? await readdir(restored) : [];
      const dbName = relative(home, resolve(this.config.data.path));
      // A stale WAL beside a restored database would corrupt it: remove the database's
      // companions first, whether or not the snapshot has them.
      if (!dbName.startsWith('..')) {
        for (const suffix of ['', '-wal', '-shm', '-journal']) {
          await rm(join(home, `${dbName}${suffix}`), { recursive: true, force: true });
        }
      }
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

/**
 * Opens the whole system from one config: Luna on CARMA and the SQLite store (`openLuna`),
 * the backup repository (lazily), and a health monitor with metrics that sees every core.
 */
export async function createAios(options: CreateAiosOptions = {}): Promise<Aios> {
  const config = resolveConfig(options);
  const native = config.native as NativeMode;
  const metrics = new Metrics({ defaultMetrics: true });
  const llm = options.offline
    ? null
    : new ChatClient(
        chatClientOptionsFromConfig(config.luna.llm, {
          probeTimeoutMs: options.probeTimeoutMs ?? 400,
        }),
      );
  const luna = await openLuna({ config, llm });
  const memory = luna.carma as Memory;
  const data = luna.data as DataStore;
  const backup = new BackupHandle(config, native);
  const reports = () => coreReports(native);
  let health: HealthMonitor;
  try {
    health = createHealthMonitor({
      config,
      metrics,
      native,
      reports,
      ...(options.offline ? { llm: false as const } : {}),
    });
    health.register(
      databaseCheck({
        // The Data core has no ping/write probe of its own: a read and a tiny event write.
        ping: async () => {
          await data.schemaVersion();
        },
        write: async () => {
          await data.events.add([{ type: 'health.probe', value: 1 }]);
        },
      }),
    );
    health.register(backupCheck({ lastBackup: () => backup.lastBackup() }, health.thresholds));
  } catch (error) {
    await luna.close().catch(() => undefined);
    throw error;
  }
  metrics.setMemorySize('carma', { items: memory.stats().fragments });

  const ask: Aios['ask'] = async (question, askOptions) => {
    const done = metrics.startRequest('luna', 'ask');
    try {
      const answer = await luna.ask(question, askOptions);
      done(answer.mode);
      metrics.observeSearch('carma', config.carma.search.mode, answer.timings.retrieveMs / 1000);
      if (answer.usage) {
        metrics.recordTokens('luna', 'prompt', answer.usage.promptTokens);
        metrics.recordTokens('luna', 'completion', answer.usage.completionTokens);
      }
      return answer;
    } catch (error) {
      done('error');
      throw error;
    }
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      health.close();
      await luna.close();
    })();
    return closing;
  };
  return {
    config,
    home: config.home,
    luna,
    memory,
    data,
    health,
    metrics,
    backup,
    ask,
    reports,
    close,
  };
}
