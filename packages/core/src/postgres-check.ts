import type { DataStore } from '@aios/data';
import type { HealthCheck } from '@aios/support';

/**
 * `postgres:responseTime`: one round trip to the PostgreSQL server of the store (its
 * schema version), timed; fails, naming the server (never its password), when it does not
 * answer. Registered only when the store is on PostgreSQL (`data.url`).
 */
export function postgresCheck(data: DataStore): HealthCheck {
  return {
    name: 'postgres:responseTime',
    componentType: 'datastore',
    async run() {
      const started = performance.now();
      const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
      try {
        const version = await data.schemaVersion();
        return {
          status: 'pass',
          observedValue: elapsed(),
          observedUnit: 'ms',
          output: `${data.path} (schema version ${version})`,
        };
      } catch (error) {
        const code = (error as { code?: string }).code;
        return {
          status: 'fail',
          observedValue: elapsed(),
          observedUnit: 'ms',
          output: `${data.path}: ${error instanceof Error ? error.message : String(error)}${code ? ` [${code}]` : ''}`,
        };
      }
    },
  };
}
