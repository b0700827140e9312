/** `aios models`: what the configured or detected language model servers offer. */
import { DEFAULT_CANDIDATES } from '@aios/luna';
import type { HealthCheck } from '@aios/support';
import { type AiosConfig, AiosError, httpRequest, isAiosError } from '@aios/utils';
import type { Command } from 'commander';
import { pc } from './colors.js';
import { type GlobalOptions, loadCliConfig, printJson } from './shared.js';

/** Where a server's address came from. */
export type ServerSource = 'configured' | 'detected' | 'given';

export interface ServerListing {
  baseUrl: string;
  /** What it most likely is, from its port: `LM Studio`, `Ollama` or `OpenAI-compatible`. */
  kind: string;
  source: ServerSource;
  /** The model ids it lists (`GET <baseUrl>/models`); empty when it did not answer. */
  models: string[];
  /** Why it did not answer (code and message), when it did not. */
  error?: { code: string; message: string };
}

/** The model the next question goes to, and why that one. */
export interface ChosenModel {
  baseUrl: string;
  model: string;
  /** `configured` (luna.llm.model) or `first listed` by the server. */
  why: string;
  /** Set when the configured model is not among those the server lists. */
  unlisted?: boolean;
}

/** How long a probe of a server that is not configured may take (LM Studio, Ollama). */
const PROBE_TIMEOUT_MS = 1_500;
/** How long the configured server may take to list its models here (not a chat request). */
const LIST_TIMEOUT_MS = 5_000;

const KINDS: Record<string, string> = { '1234': 'LM Studio', '11434': 'Ollama' };

function kindOf(baseUrl: string): string {
  try {
    return KINDS[new URL(baseUrl).port] ?? 'OpenAI-compatible';
  } catch {
    return 'OpenAI-compatible';
  }
}

const trimUrl = (url: string) => url.replace(/\/+$/, '');

/** One server's model list; its failure is recorded, never thrown. */
async function listOne(
  baseUrl: string,
  source: ServerSource,
  apiKey: string | undefined,
  timeoutMs: number,
): Promise<ServerListing> {
  const listing: ServerListing = { baseUrl, kind: kindOf(baseUrl), source, models: [] };
  const url = `${baseUrl}/models`;
  try {
    const response = await httpRequest(
      url,
      {
        headers: {
          accept: 'application/json',
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        },
      },
      { timeoutMs, retries: 0 },
    );
    const body = (await response.json()) as { data?: unknown };
    if (!Array.isArray(body?.data)) {
      throw new AiosError('LLM_BAD_RESPONSE', `${url}: not a model list (no "data" array)`);
    }
    listing.models = body.data
      .map((m) => (m as { id?: unknown })?.id)
      .filter((id): id is string => typeof id === 'string' && id !== '');
  } catch (error) {
    const code = isAiosError(error) ? error.code : 'LLM_UNREACHABLE';
    const message = error instanceof Error ? error.message : String(error);
    listing.error = { code, message };
  }
  return listing;
}

/**
 * Asks each server for its models, in parallel: `url` when given; else the configured
 * `luna.llm.baseUrl`; else the local servers Luna would detect (LM Studio, then Ollama).
 * The API key goes to the configured server only.
 */
export async function listServers(
  config: Pick<AiosConfig, 'luna'>,
  url?: string,
): Promise<ServerListing[]> {
  const { baseUrl, apiKey } = config.luna.llm;
  if (url !== undefined) {
    const given = trimUrl(url);
    const key = baseUrl && trimUrl(baseUrl) === given ? apiKey : undefined;
    return [await listOne(given, 'given', key, LIST_TIMEOUT_MS)];
  }
  if (baseUrl) return [await listOne(trimUrl(baseUrl), 'configured', apiKey, LIST_TIMEOUT_MS)];
  return Promise.all(
    DEFAULT_CANDIDATES.map((c) => listOne(c, 'detected', undefined, PROBE_TIMEOUT_MS)),
  );
}

/** The model Luna would use with these servers: as her chat client resolves it. */
export function chosenModel(
  config: Pick<AiosConfig, 'luna'>,
  servers: readonly ServerListing[],
): ChosenModel | undefined {
  const server = servers.find((s) => !s.error);
  if (!server) return undefined;
  const configured = config.luna.llm.model;
  if (configured) {
    return {
      baseUrl: server.baseUrl,
      model: configured,
      why: 'configured',
      ...(server.models.length > 0 && !server.models.includes(configured)
        ? { unlisted: true }
        : {}),
    };
  }
  const first = server.models[0];
  return first ? { baseUrl: server.baseUrl, model: first, why: 'first listed' } : undefined;
}

/** `LM Studio at http://localhost:1234/v1` */
export const serverName = (s: Pick<ServerListing, 'kind' | 'baseUrl'>) =>
  s.kind === 'OpenAI-compatible' ? s.baseUrl : `${s.kind} at ${s.baseUrl}`;

/** Why no model answers, in one line: nothing configured or detected, or the server down. */
export function noModelReason(servers: readonly ServerListing[]): string {
  const down = servers.filter((s) => s.error);
  if (servers.every((s) => s.source === 'detected')) {
    return `no language model is configured, and none was found running (${down.map(serverName).join(', ')}); set one with \`aios config set luna.llm.baseUrl <url>\``;
  }
  const s = servers[0] as ServerListing;
  if (s.error) return `${serverName(s)} did not answer (${s.error.message})`;
  return `${serverName(s)} lists no model; set one with \`aios config set luna.llm.model <id>\``;
}

/**
 * `llm:model`, a health check that is always there: the server and model answers would
 * come from, or why there is none (`--offline`; nothing configured or detected; the
 * configured server down). Without one, answers are quoted from memory: a configured
 * server that does not answer is a failure, none configured and none found is not.
 */
export function modelCheck(config: Pick<AiosConfig, 'luna'>, offline: boolean): HealthCheck {
  return {
    name: 'llm:model',
    componentType: 'component',
    timeoutMs: LIST_TIMEOUT_MS + 1_000,
    async run() {
      if (offline) {
        return { status: 'pass', output: 'not used (--offline): answers are quoted from memory' };
      }
      const servers = await listServers(config);
      const chosen = chosenModel(config, servers);
      if (chosen) {
        const server = servers.find((s) => s.baseUrl === chosen.baseUrl) as ServerListing;
        const unlisted = chosen.unlisted
          ? `; not among the models it lists (${server.models.join(', ')})`
          : '';
        return {
          status: chosen.unlisted ? 'warn' : 'pass',
          observedValue: chosen.model,
          output: `${chosen.model} (${chosen.why}) on ${serverName(server)}${unlisted}`,
        };
      }
      // Without a configured server, none found is how AIOS runs offline: reported, not a fault.
      const configured = servers.some((s) => s.source === 'configured');
      return {
        status: configured ? 'fail' : 'pass',
        output: `${noModelReason(servers)}; answers are quoted from memory`,
      };
    },
  };
}

function printListing(servers: ServerListing[], chosen: ChosenModel | undefined): void {
  for (const s of servers) {
    const label = s.source === 'detected' ? `${s.kind}, detected` : `${s.kind}, ${s.source}`;
    const head = `${pc.bold(s.baseUrl)} ${pc.dim(`(${label})`)}`;
    if (s.error) {
      console.log(
        `${head}: ${pc.yellow('not answering')} ${pc.dim(`${s.error.message} [${s.error.code}]`)}`,
      );
      continue;
    }
    console.log(`${head}: ${s.models.length} model${s.models.length === 1 ? '' : 's'}`);
    for (const id of s.models) {
      const used = chosen?.baseUrl === s.baseUrl && chosen.model === id;
      console.log(
        used ? `  ${pc.green('*')} ${id} ${pc.dim(`(used: ${chosen.why})`)}` : `    ${id}`,
      );
    }
  }
  if (chosen?.unlisted) {
    console.log(
      pc.yellow(`luna.llm.model is ${chosen.model}, which ${chosen.baseUrl} does not list`),
    );
  }
  if (servers.some((s) => !s.error)) {
    console.log(
      pc.dim(
        'use one with `aios config set luna.llm.model <id>`, or for one question `aios ask --model <id> ...`',
      ),
    );
  }
}

export function registerModels(program: Command): void {
  program
    .command('models')
    .summary('the models the configured or detected language model servers offer')
    .description(
      'the models of the configured language model server (luna.llm.baseUrl), or of the local ones Luna detects when none is configured (LM Studio on :1234, Ollama on :11434), or of --url; the one answers use is marked',
    )
    .option('--url <baseUrl>', 'ask this OpenAI-compatible server (…/v1) instead')
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { url?: string; json?: boolean }, command: Command) => {
      if (options.url !== undefined && !/^https?:\/\/[^/\s]+/.test(options.url)) {
        throw new AiosError(
          'INVALID_INPUT',
          `--url: expected an http(s) URL such as http://localhost:1234/v1, got ${JSON.stringify(options.url)}`,
        );
      }
      const { config } = loadCliConfig(command.optsWithGlobals<GlobalOptions>());
      const servers = await listServers(config, options.url);
      const chosen = options.url === undefined ? chosenModel(config, servers) : undefined;
      if (options.json) printJson({ servers, model: chosen ?? null });
      else printListing(servers, chosen);
      if (servers.every((s) => s.error)) {
        if (!options.json) {
          process.stderr.write(`aios: ${noModelReason(servers)} [LLM_UNREACHABLE]\n`);
        }
        process.exitCode = 1;
      }
    });
}
