import type { OpenDataStoreOptions } from '@aios/data';
import type { AiosConfig } from '@aios/utils';

/**
 * How the configured store is opened: the PostgreSQL database at `data.url` (its password
 * is the secret `data.password`, its schema `data.schema`) when one is set, else the
 * SQLite file at `data.path`.
 */
export function storeOptionsFromConfig(
  config: AiosConfig,
  extra: Pick<OpenDataStoreOptions, 'operation'> = {},
): OpenDataStoreOptions {
  const { native } = config;
  return config.data.url === undefined
    ? { path: config.data.path, native, ...extra }
    : {
        url: config.data.url,
        password: config.data.password,
        ...(config.data.schema === undefined ? {} : { schema: config.data.schema }),
        connectTimeoutMs: config.data.connectTimeoutMs,
        queryTimeoutMs: config.data.queryTimeoutMs,
        native,
        ...extra,
      };
}
