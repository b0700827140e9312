import type * as z from 'zod';
import { configSchema } from './schema.js';

/**
 * Environment variables map onto config paths: each segment in SCREAMING_SNAKE_CASE,
 * nested segments joined by a double underscore.
 *
 *   AIOS_HOME                      -> home
 *   AIOS_LOG_LEVEL                 -> logLevel
 *   AIOS_LUNA__LLM__BASE_URL       -> luna.llm.baseUrl
 *   AIOS_CARMA__EMBEDDER__DIMENSION -> carma.embedder.dimension
 */
export const ENV_PREFIX = 'AIOS_';

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly']);

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Every leaf of the schema with the type of its value (`string`, `record`, `enum`...). */
function leaves(schema: z.ZodType, prefix: string[]): { path: string[]; type: string }[] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) {
    const inner = def.innerType ?? def.in;
    return inner ? leaves(inner, prefix) : [{ path: prefix, type: def.type }];
  }
  if (def.type === 'pipe' && def.in && def.out) {
    // A preprocess pipe starts with a transform: the shape lives in its output schema.
    return leaves(defOf(def.in).type === 'transform' ? def.out : def.in, prefix);
  }
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([key, child]) => leaves(child, [...prefix, key]));
  }
  if (def.type === 'union' && def.options) {
    const all = def.options.flatMap((option) => leaves(option, prefix));
    const unique = new Map(all.map((leaf) => [leaf.path.join('.'), leaf]));
    return [...unique.values()];
  }
  return [{ path: prefix, type: def.type }];
}

/** Every leaf path of the schema (object keys, through defaults and union options). */
export function leafPaths(schema: z.ZodType = configSchema, prefix: string[] = []): string[][] {
  return leaves(schema, prefix).map((leaf) => leaf.path);
}

/**
 * The leaves that are maps of names to values (such as `luna.personas`): their entries,
 * `luna.personas.<name>`, are keys too.
 */
export function recordPaths(schema: z.ZodType = configSchema): string[][] {
  return leaves(schema, [])
    .filter((leaf) => leaf.type === 'record')
    .map((leaf) => leaf.path);
}

export function envName(path: readonly string[]): string {
  return (
    ENV_PREFIX +
    path.map((segment) => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__')
  );
}

const JSON_LIKE = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|\[.*\]|\{.*\})$/s;

/** Numbers, booleans, arrays and objects are written as JSON; anything else is a string. */
function parseEnvValue(raw: string): unknown {
  if (!JSON_LIKE.test(raw.trim())) return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export interface EnvLayer {
  values: Record<string, unknown>;
  /** Config path (dotted) -> the variable that set it, for error messages. */
  sources: Map<string, string>;
}

export function readEnv(env: NodeJS.ProcessEnv): EnvLayer {
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const path of leafPaths()) {
    const name = envName(path);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let target = values;
    for (const segment of path.slice(0, -1)) {
      target[segment] ??= {};
      target = target[segment] as Record<string, unknown>;
    }
    target[path[path.length - 1] as string] = parseEnvValue(raw);
    sources.set(path.join('.'), name);
  }
  return { values, sources };
}

/**
 * `AIOS_*` variables that are not configuration: read by the CLI (`AIOS_CONFIG`,
 * `AIOS_DEBUG`), the test suites and the build and benchmark tools. Any other `AIOS_*`
 * variable that names no config key is most likely a typo, which would otherwise be
 * ignored without a word.
 */
export const OTHER_ENV_VARIABLES: ReadonlySet<string> = new Set([
  'AIOS_CONFIG',
  'AIOS_DEBUG',
  'AIOS_POSTGRES_BIN',
  'AIOS_TEST_IMPLEMENTATIONS',
  'AIOS_BACKUP_KILL_ROUNDS',
  'AIOS_CRANFIELD_DIR',
  'AIOS_NATIVE_PROFILE',
  'AIOS_NODE22',
  'AIOS_RUST_TOOLCHAIN',
  'AIOS_REQUIRE_TOOLS',
  'AIOS_TOOLS_VENV',
  'AIOS_TEST_TARGETS',
  'AIOS_CHAOS_KILLS',
  'AIOS_CHAOS_REPORT',
  'AIOS_CHAOS_SEED',
  'AIOS_FUZZ_EXAMPLES',
  'AIOS_FUZZ_SEED',
  'AIOS_KEEP_RELEASE_TEST',
  'AIOS_API_URL',
  'AIOS_WEB_BENCH_FRAGMENTS',
]);

export interface UnknownEnvVariable {
  name: string;
  /** The closest config variable, when one is close enough to be a likely typo. */
  suggestion: string | undefined;
}

/** Edit distance (insertions, deletions, substitutions and swaps of neighbours). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const up = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (up[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** Every set `AIOS_*` variable that maps to no config key, with the closest one that does. */
export function unknownEnvVariables(env: NodeJS.ProcessEnv): UnknownEnvVariable[] {
  const known = leafPaths().map(envName);
  const names = new Set([...known, ...OTHER_ENV_VARIABLES]);
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !names.has(name))
    .sort()
    .map((name) => {
      let suggestion: string | undefined;
      let best = Number.POSITIVE_INFINITY;
      for (const candidate of known) {
        const d = editDistance(name.toUpperCase(), candidate);
        if (d < best) [best, suggestion] = [d, candidate];
      }
      // A suggestion only where it is plausibly what was meant.
      const close = best <= Math.max(2, Math.floor(name.length / 3));
      return { name, suggestion: close ? suggestion : undefined };
    });
}

/** The config key (dotted, a leaf or a section) closest to `key`, if it is a likely typo. */
export function suggestConfigKey(key: string): string | undefined {
  const keys = new Set(
    leafPaths().flatMap((path) => path.map((_, i) => path.slice(0, i + 1).join('.'))),
  );
  let suggestion: string | undefined;
  let best = Number.POSITIVE_INFINITY;
  for (const candidate of keys) {
    const d = editDistance(key, candidate);
    if (d < best) [best, suggestion] = [d, candidate];
  }
  return best <= Math.max(2, Math.floor(key.length / 3)) ? suggestion : undefined;
}
