import { configFileOf, configKeyPath, readConfigFile, writeConfigFile } from '@aios/core';
import { deletePath, isSecretKey, setPath } from '@aios/utils';
import { Type } from 'typebox';
import type { RouteModule } from '../context.js';
import { apiError } from '../http/errors.js';

/**
 * Keys a server admin may change over HTTP (a key, or every key under a section). Left
 * out: where data lives (home, data, backup.repository), the embedder (a change needs a
 * re-embed), where the server listens and whom it trusts (server.host, port,
 * allowedHosts), the language model's address and secrets, and backup.includeSecrets.
 */
export const PATCHABLE_KEYS = [
  'logLevel',
  'carma.search',
  'luna.llm.model',
  'luna.llm.timeoutMs',
  'luna.llm.maxRetries',
  'luna.encoding',
  'luna.contextWindow',
  'luna.personas',
  'luna.persona',
  'backup.excludes',
  'server.bodyLimitBytes',
  'server.uploadLimitBytes',
  'server.requestsPerMinute',
  'server.tokenBudgetPerDay',
  'server.conversationRetentionDays',
  'server.shutdownTimeoutMs',
  'support',
] as const;

function patchable(path: readonly string[]): boolean {
  if (isSecretKey(path)) return false;
  return PATCHABLE_KEYS.some((key) => {
    const allowed = key.split('.');
    return allowed.length <= path.length && allowed.every((part, i) => path[i] === part);
  });
}

const ConfigPatch = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$', maxLength: 200 }),
  Type.Unknown(),
  {
    minProperties: 1,
    maxProperties: 50,
    description:
      'Dotted keys and their new values (`null` removes the key from the file: its default applies again)',
  },
);

/** Changes to the home's config file (the file `aios config set` writes). */
export const configRoutes: RouteModule = (api, ctx) => {
  api.patch(
    '/config',
    {
      config: { access: 'admin', serverAdmin: true, action: 'config.patch' },
      schema: {
        summary:
          "Change keys of the home's config file, validated as the file will be written; they take effect when the server restarts",
        tags: ['system'],
        body: ConfigPatch,
        response: {
          200: Type.Object({
            file: Type.String(),
            set: Type.Array(Type.String()),
            removed: Type.Array(Type.String()),
            restartRequired: Type.Literal(true),
          }),
        },
      },
    },
    async (request) => {
      const file = configFileOf({ home: ctx.config.home });
      const changes = Object.entries(request.body).map(([key, value]) => {
        const path = configKeyPath(key);
        if (!patchable(path)) {
          throw apiError(
            'CONFIG_KEY_NOT_PATCHABLE',
            `${key} cannot be changed over HTTP (change it with \`aios config set\` on the server)`,
            { key, patchable: PATCHABLE_KEYS },
          );
        }
        return { key, path, value };
      });
      const next = structuredClone(readConfigFile(file));
      const set: string[] = [];
      const removed: string[] = [];
      for (const { key, path, value } of changes) {
        if (value === null) {
          if (deletePath(next, path)) removed.push(key);
        } else {
          setPath(next, path, value);
          set.push(key);
        }
      }
      writeConfigFile(file, next);
      return { file, set, removed, restartRequired: true as const };
    },
  );
};
