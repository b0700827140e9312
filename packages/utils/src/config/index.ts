export {
  ENV_PREFIX,
  envName,
  leafPaths,
  OTHER_ENV_VARIABLES,
  suggestConfigKey,
  type UnknownEnvVariable,
  unknownEnvVariables,
} from './env.js';
export {
  CONFIG_FILE_NAME,
  type ConfigIssue,
  type ConfigWarning,
  defaultHome,
  HOME_CONFIG_FILE_NAME,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
} from './load.js';
export { type AiosConfig, type AiosConfigInput, configSchema } from './schema.js';
