import { existsSync } from 'node:fs';
import { describeRoles, summarizeEmbedderConfig } from '@aios/carma';
import { DEFAULT_CANDIDATES } from '@aios/luna';
import {
  describeReadOnlyCause,
  type LoadedConfig,
  readSecretsFile,
  secretPaths,
} from '@aios/utils';
import type { Command } from 'commander';
import { systemStatus } from '../status.js';
import { pc } from './colors.js';
import { type GlobalOptions, loadCliConfig, printJson } from './shared.js';

/**
 * The language model set up (no request made: `aios models` and `aios health` ask it) and
 * the secrets file: which keys it holds, never their values.
 */
function setup(loaded: LoadedConfig) {
  const { baseUrl, model } = loaded.config.luna.llm;
  const file = loaded.secretsFile;
  const stored = file && existsSync(file) ? readSecretsFile(file) : {};
  const keys = secretPaths()
    .filter((path) => {
      let node: unknown = stored;
      for (const p of path) node = (node as Record<string, unknown> | undefined)?.[p];
      return node !== undefined;
    })
    .map((path) => path.join('.'));
  return {
    llm: {
      baseUrl: baseUrl ?? null,
      model: model ?? null,
      detects: baseUrl ? [] : [...DEFAULT_CANDIDATES],
    },
    secrets: { file: file ?? null, keys },
  };
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show each core, its version, the implementation it runs and why')
    .option('--json', 'print machine-readable JSON')
    .action((options: { json?: boolean }, command: Command) => {
      const loaded = loadCliConfig(command.optsWithGlobals<GlobalOptions>());
      const status = systemStatus(loaded);
      const { llm, secrets } = setup(loaded);
      const embedder = summarizeEmbedderConfig(loaded.config.carma.embedder);
      if (options.json) {
        printJson({ ...status, llm, secrets, embedder });
      } else {
        console.log(
          `${pc.bold('AIOS')} ${status.version}  node ${status.node}  ${status.platform}`,
        );
        console.log(
          `home    ${status.home}${
            status.readOnly
              ? pc.yellow(
                  ` (read-only: ${describeReadOnlyCause(status.readOnly)}; commands that write are refused)`,
                )
              : ''
          }`,
        );
        console.log(`config  ${status.configFile ?? '(defaults and environment only)'}`);
        console.log(`native  ${status.native}`);
        console.log(
          `store   ${status.store.database === 'postgres' ? `PostgreSQL ${status.store.location}` : `SQLite ${status.store.location}`}`,
        );
        console.log(
          `memory  ${embedder.embedder} (${embedder.dimension ?? 'dimension from the model'}; query/document: ${describeRoles(embedder.roles ?? undefined)})`,
        );
        const model = llm.model ? `model ${llm.model}` : 'the first model it lists';
        console.log(
          `llm     ${llm.baseUrl ? `${llm.baseUrl}, ${model}` : `not configured: looks for ${llm.detects.join(', ')} (\`aios models\`)`}`,
        );
        const keys = secrets.keys.length > 0 ? secrets.keys.join(', ') : 'no keys';
        console.log(
          `secrets ${secrets.file ?? '(not read)'} ${pc.dim(`(${keys}; readable by you only)`)}`,
        );
        const { rateLimits } = status;
        console.log(
          `limits  ${rateLimits.requestsPerMinute} requests a minute per key, ${
            rateLimits.redis
              ? `shared by every aios serve using ${rateLimits.redis}`
              : 'per aios serve instance (no redis.url)'
          }`,
        );
        console.log('');
        const width = Math.max(...status.cores.map((c) => c.name.length));
        for (const core of status.cores) {
          const impl =
            core.implementation === 'native'
              ? pc.green('native')
              : core.implementation === 'js'
                ? pc.yellow('js    ')
                : pc.red('unavailable');
          console.log(
            `${core.name.padEnd(width)}  ${core.version.padEnd(8)}  ${impl}  ${pc.dim(core.reason)}`,
          );
        }
      }
      if (status.cores.some((c) => c.implementation === 'unavailable')) process.exitCode = 1;
    });
}
