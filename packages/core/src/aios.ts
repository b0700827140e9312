import { resolve } from 'node:path';
import type { Memory } from '@aios/carma';
import type { DataStore } from '@aios/data';
import {
  ChatClient,
  chatClientOptionsFromConfig,
  type FeedbackResult,
  type OpenedLuna,
  openLuna,
} from '@aios/luna';
import {
  backupCheck,
  createHealthMonitor,
  databaseCheck,
  type HealthMonitor,
  Metrics,
} from '@aios/support';
import {
  type AiosConfig,
  type ImplementationReport,
  invalidInput,
  loadConfig,
  type NativeMode,
} from '@aios/utils';
import { BackupHandle } from './backup-handle.js';
import { CORES } from './cores.js';
import { MetricsJournal } from './metrics-journal.js';

export { BackupHandle } from './backup-handle.js';

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
  /** Luna's `feedback`, recorded as a request (`operation="feedback"`). */
  feedback(
    answerId: string,
    feedback: Parameters<OpenedLuna['feedback']>[1],
  ): Promise<FeedbackResult>;
  /**
   * Luna's `undoFeedback`: the feedback named, or the latest still in effect; recorded as a
   * request (`operation="feedback-undo"`). Counters never go back: an undo is counted too.
   */
  undoFeedback(feedbackId?: string): Promise<FeedbackResult>;
  /** Each core's implementation report (unavailable cores are skipped). */
  reports(): ImplementationReport[];
  /**
   * Saves this process's metrics in the data store, then flushes and closes every core;
   * later calls return the same promise.
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
  const backup = new BackupHandle(config, native, metrics, (target) => data.snapshotTo(target));
  const reports = () => coreReports(native);
  // Counters and histograms continue the totals of earlier commands (see MetricsJournal).
  const journal = new MetricsJournal(metrics, data.events);
  let health: HealthMonitor;
  try {
    await journal.load();
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
  const feedback: Aios['feedback'] = (answerId, input) =>
    measured('feedback', () => luna.feedback(answerId, input));
  const undoFeedback: Aios['undoFeedback'] = (feedbackId) =>
    measured('feedback-undo', () => luna.undoFeedback(feedbackId));

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      health.close();
      try {
        await journal.save();
      } finally {
        await luna.close();
      }
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
    feedback,
    undoFeedback,
    reports,
    close,
  };
}
