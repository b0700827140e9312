import { resolve } from 'node:path';
import { type Memory, openMemory } from '@aios/carma';
import { type DataStore, openDataStore } from '@aios/data';
import {
  type Answer,
  type AskOptions,
  ChatClient,
  carmaOptionsFromConfig,
  chatClientOptionsFromConfig,
  type Feedback,
  type FeedbackResult,
  type Luna,
  lunaOnCores,
} from '@aios/luna';
import {
  backupCheck,
  createHealthMonitor,
  databaseCheck,
  type HealthCheck,
  type HealthMonitor,
  Metrics,
} from '@aios/support';
import {
  type AiosConfig,
  type AiosError,
  describeReadOnlyCause,
  type ImplementationReport,
  invalidInput,
  loadConfig,
  type NativeMode,
  type ReadOnlyCause,
  readOnlyRefusal,
  runAll,
} from '@aios/utils';
import { BackupHandle } from './backup-handle.js';
import { CORES } from './cores.js';
import { homeIntegrityCheck } from './doctor/health.js';
import { MetricsJournal } from './metrics-journal.js';
import { postgresCheck } from './postgres-check.js';
import { storeOptionsFromConfig } from './store-options.js';

export interface CreateAiosOptions {
  /** Data directory (default `$AIOS_HOME` or ~/.aios); with `config`, it must be the config's home. */
  home?: string;
  /** A loaded config; default `loadConfig()` (with `home` as an override). */
  config?: AiosConfig;
  /** Never talk to a language model: every answer is the offline, extractive one. */
  offline?: boolean;
  /** Timeout of one LM Studio / Ollama probe when `luna.llm.baseUrl` is unset (default 400 ms). */
  probeTimeoutMs?: number;
  /**
   * A memory of at least `carma.backgroundCheckpointFrom` fragments leaves index files
   * due at close to another process (`aios.memory.checkpointDeferred`): a CLI command,
   * which then starts `aios memory checkpoint` (background-checkpoint.ts). Not on a js
   * SQLite store, which a process holds alone.
   */
  deferCheckpoints?: boolean;
  /**
   * The memory's vectors were made by another embedder than `carma.embedder` now names:
   * re-embed every fragment with it (`aios memory reembed`) instead of refusing to open.
   */
  reembed?: boolean;
  /**
   * Collect the figures of this process itself (CPU, memory, event loop lag, GC: the
   * `nodejs_*` and `process_*` families) beside the system's. Default true: for a process
   * that keeps running (a server, an application). A one-off CLI command turns them off:
   * they would describe only itself (`aios metrics` showed its own event loop, never
   * sampled: a minimum lag of 9.2e9 s and a mean of NaN).
   */
  processMetrics?: boolean;
  /**
   * What the caller is about to write (a command: "`aios memory add`"): a home that opens
   * to read only (see `Aios.readOnly`) is refused at once with `IO_READ_ONLY`, before the
   * memory loads, saying so and that nothing was changed.
   */
  writes?: string;
}

/**
 * The whole system, opened from one config: the data store, CARMA on it, the one chat
 * client, Luna on those three, Backup, and Support's health and metrics.
 */
export interface Aios {
  readonly config: AiosConfig;
  readonly home: string;
  /**
   * Why the home is open to read only: its database is in a folder this process cannot
   * write (`filesystem`: mounted read-only; `permissions`: this user may not write it),
   * found as the database opens (see @aios/data's `readOnly`). Then nothing is written to
   * the home: no lease, no uses of what searches found, no index file, no answer recorded
   * (`ask` answers as ever), no metrics; every change fails with `IO_READ_ONLY`. Undefined
   * when the home takes writes.
   */
  readonly readOnly: ReadOnlyCause | undefined;
  /** Luna, wired onto `data`, `memory` and `llm` (`lunaOnCores`). */
  readonly luna: Luna;
  /** CARMA, keeping its fragments in `data`. */
  readonly memory: Memory;
  /** The store: the SQLite file at `data.path`, or the PostgreSQL database at `data.url`. */
  readonly data: DataStore;
  /** The chat client Luna asks; null when offline. */
  readonly llm: ChatClient | null;
  /** Made when first read (a command that never asks spends nothing on it). */
  readonly health: HealthMonitor;
  readonly metrics: Metrics;
  readonly backup: BackupHandle;
  /** Luna's `ask`, recording the request, its tokens and the retrieval time as metrics. */
  ask(question: string, options?: AskOptions): Promise<Answer>;
  /** Luna's `feedback`, recorded as a request (`operation="feedback"`). */
  feedback(answerId: string, feedback: Feedback): Promise<FeedbackResult>;
  /**
   * Luna's `undoFeedback`: the feedback named, or the latest still in effect; recorded as a
   * request (`operation="feedback-undo"`). Counters never go back: an undo is counted too.
   */
  undoFeedback(feedbackId?: string): Promise<FeedbackResult>;
  /** Each core's implementation report (unavailable cores are skipped). */
  reports(): ImplementationReport[];
  /**
   * Saves this process's metrics in the data store, then closes CARMA (it writes its last
   * accesses and index state into the store) and the data store; later calls return the
   * same promise.
   */
  close(): Promise<void>;
}

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

/**
 * `IO_READ_ONLY` for `refused` (a command: "`aios memory add`") on the read-only `home`:
 * names the home, says why it is read-only and that nothing was changed.
 */
export function readOnlyHome(home: string, cause: ReadOnlyCause, refused: string): AiosError {
  return readOnlyRefusal(home, 'the AIOS home', cause, refused);
}

/**
 * The health check of a read-only home's database (in place of `database:writable`): it
 * answers reads, and is not written to be probed: a warning that says why.
 */
function readOnlyDatabaseCheck(data: DataStore, cause: ReadOnlyCause): HealthCheck {
  return {
    name: 'database:writable',
    componentType: 'datastore',
    async run() {
      const started = performance.now();
      try {
        await data.schemaVersion();
      } catch (error) {
        return {
          status: 'fail',
          output: `ping failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      return {
        status: 'warn',
        observedValue: Math.round((performance.now() - started) * 1000) / 1000,
        observedUnit: 'ms',
        output: `open to read only (${describeReadOnlyCause(cause)}): reads are answered, writes refused`,
      };
    },
  };
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
 * The composition root: opens the whole system from one config, and is the only place
 * that does. The data store at `data.path` (or the PostgreSQL database at `data.url`); CARMA on it (index files in `<home>/carma`,
 * the embedder of `carma.embedder`); one chat client from `luna.llm` (none when offline);
 * Luna on those three (`lunaOnCores`); the backup repository (opened lazily); a health
 * monitor and metrics that see every core, with the metrics of earlier commands loaded
 * from the store. When a step fails, what was opened is closed before the error is thrown.
 */
export async function createAios(options: CreateAiosOptions = {}): Promise<Aios> {
  const config = resolveConfig(options);
  const { native } = config;
  const data = await openDataStore(storeOptionsFromConfig(config));
  const readOnly = data.readOnly?.cause;
  if (readOnly !== undefined && options.writes !== undefined) {
    await data.close().catch(() => undefined);
    throw readOnlyHome(config.home, readOnly, options.writes);
  }
  let memory: Memory;
  const deferFrom = config.carma.backgroundCheckpointFrom;
  const defers =
    options.deferCheckpoints === true &&
    deferFrom !== null &&
    (data.database === 'postgres' || data.implementation === 'native');
  try {
    memory = await openMemory({
      ...carmaOptionsFromConfig(config),
      data,
      ...(defers ? { deferCheckpointFrom: deferFrom } : {}),
      ...(options.reembed ? { reembed: true } : {}),
      // Every door of the system (the CLI, the server, MCP) re-embeds with this command.
      reembedHint: 'run `aios memory reembed`',
    });
  } catch (error) {
    await data.close().catch(() => undefined);
    throw error;
  }
  const closeCores = () => runAll([() => memory.close(), () => data.close()]);

  const metrics = new Metrics({ defaultMetrics: options.processMetrics ?? true });
  const reports = () => coreReports(native);
  let llm: ChatClient | null;
  let luna: Luna;
  let backup: BackupHandle;
  let journal: MetricsJournal;
  try {
    llm = options.offline
      ? null
      : new ChatClient(
          chatClientOptionsFromConfig(config.luna.llm, {
            probeTimeoutMs: options.probeTimeoutMs ?? 400,
          }),
        );
    // Told to stay offline: the offline answers say so, not that no model is configured.
    // (A read-only home answers as ever and records no answer: lunaOnCores sees to it.)
    luna = lunaOnCores(
      { config, data, carma: memory, llm },
      options.offline ? { offlineNote: 'Working offline as asked' } : {},
    );
    backup = new BackupHandle(config, native, metrics, (target) => data.snapshotTo(target));
    // Counters and histograms continue the totals of earlier commands (see MetricsJournal).
    journal = new MetricsJournal(metrics, data.events);
    await journal.load();
  } catch (error) {
    await closeCores().catch(() => undefined);
    throw error;
  }
  metrics.setMemorySize('carma', { items: memory.size });

  // Made when first asked for (`aios health`, a server's probes, which a server asks for
  // as it starts): a command that never looks spends nothing on it (its system statistics
  // load a native library of their own: 6-10 ms of every command).
  let health: HealthMonitor | undefined;
  const monitor = (): HealthMonitor => {
    if (health) return health;
    const made = createHealthMonitor({
      config,
      metrics,
      native,
      reports,
      ...(options.offline ? { llm: false as const } : {}),
    });
    made.register(
      readOnly !== undefined
        ? readOnlyDatabaseCheck(data, readOnly)
        : databaseCheck({
            // The Data core has no ping/write probe of its own: a read and a tiny event write.
            ping: async () => {
              await data.schemaVersion();
            },
            write: async () => {
              await data.events.add([{ type: 'health.probe', value: 1 }]);
            },
          }),
    );
    if (data.database === 'postgres') made.register(postgresCheck(data));
    made.register(backupCheck({ lastBackup: () => backup.lastBackup() }, made.thresholds));
    made.register(homeIntegrityCheck(config, native));
    health = made;
    return made;
  };

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

  /** Runs one Luna call as a request of `operation`, counted by outcome. */
  const measured = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    const done = metrics.startRequest('luna', operation);
    try {
      const result = await run();
      done('ok');
      return result;
    } catch (error) {
      done('error');
      throw error;
    }
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= runAll([
      () => health?.close(),
      async () => {
        // A read-only home keeps no metrics: they would be written to it.
        if (readOnly === undefined) await journal.save();
      },
      closeCores,
    ]);
    return closing;
  };
  return {
    config,
    home: config.home,
    readOnly,
    luna,
    memory,
    data,
    llm,
    get health() {
      return monitor();
    },
    metrics,
    backup,
    ask,
    feedback: (answerId, input) => measured('feedback', () => luna.feedback(answerId, input)),
    undoFeedback: (feedbackId) => measured('feedback-undo', () => luna.undoFeedback(feedbackId)),
    reports,
    close,
  };
}
