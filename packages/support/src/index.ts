import type { ImplementationReport, NativeMode } from '@aios/utils';
import packageJson from '../package.json' with { type: 'json' };
import { loadSupportBinding } from './binding.js';

export { loadSupportBinding, type SupportBinding } from './binding.js';
export {
  Cache,
  type CacheLoader,
  type CacheOptions,
  type CacheStats,
  createCache,
} from './cache/index.js';
export {
  type BackupProbe,
  type BackupStatus,
  backupCheck,
  cpuCheck,
  type DatabaseProbe,
  databaseCheck,
  diskCheck,
  eventLoopCheck,
  type HealthThresholds,
  type LlmEndpoint,
  llmCheck,
  memoryCheck,
  nativeCheck,
  processMemoryCheck,
} from './health/checks.js';
export {
  createHealthMonitor,
  defaultThresholds,
  HealthMonitor,
  type HealthMonitorOptions,
  httpStatusOf,
} from './health/monitor.js';
export {
  type CheckOutcome,
  type CheckResult,
  HEALTH_CONTENT_TYPE,
  type HealthCheck,
  type HealthJsonCheck,
  type HealthReport,
  type HealthStatus,
  type Probe,
} from './health/types.js';
export {
  type BackupRecord,
  type CacheStatsSource,
  defaultMetrics,
  type MetricFamily,
  type MetricSample,
  Metrics,
  type MetricsOptions,
  type RequestRecord,
} from './metrics/index.js';
export {
  addMetricsStates,
  type CounterSeries,
  checkMetricsState,
  emptyMetricsState,
  type HistogramSeries,
  isEmptyMetricsState,
  type MetricLabels,
  type MetricsState,
  subtractMetricsStates,
} from './metrics/state.js';
export {
  createSystemStats,
  type DiskSpace,
  type SystemSample,
  type SystemStats,
  type SystemStatsOptions,
} from './stats/index.js';

export const VERSION: string = packageJson.version;

/** Which implementation @aios/support runs in this process, and why. */
export function implementation(mode?: NativeMode): ImplementationReport {
  return loadSupportBinding(mode).report;
}
