export { ENV_PREFIX, envName, leafPaths } from './env.js';
export {
  CONFIG_FILE_NAME,
  type ConfigIssue,
  defaultHome,
  HOME_CONFIG_FILE_NAME,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
} from './load.js';
export { type AiosConfig, type AiosConfigInput, configSchema } from './schema.js';
