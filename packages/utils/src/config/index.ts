export {
  ENV_PREFIX,
  envName,
  leafPaths,
  OTHER_ENV_VARIABLES,
  recordPaths,
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
  type SecretsWarning,
  type UnknownEnvWarning,
} from './load.js';
export {
  type AiosConfig,
  type AiosConfigInput,
  configSchema,
  MAX_SYSTEM_PROMPT_CHARS,
} from './schema.js';
export {
  deletePath,
  describeConfigValue,
  isSecretKey,
  looksSecret,
  maskSecret,
  maskSecrets,
  readSecretsFile,
  SECRETS_FILE_MODE,
  SECRETS_FILE_NAME,
  secretPaths,
  secretsFileFor,
  setPath,
  splitSecrets,
  writeSecretsFile,
} from './secrets.js';
