import type { z } from 'zod';
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

/** Every leaf path of the schema (object keys, through defaults and union options). */
export function leafPaths(schema: z.ZodType = configSchema, prefix: string[] = []): string[][] {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) {
    const inner = def.innerType ?? def.in;
    return inner ? leafPaths(inner, prefix) : [prefix];
  }
  if (def.type === 'pipe' && def.in && def.out) {
    // A preprocess pipe starts with a transform: the shape lives in its output schema.
    return leafPaths(defOf(def.in).type === 'transform' ? def.out : def.in, prefix);
  }
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
  }
  if (def.type === 'union' && def.options) {
    const all = def.options.flatMap((option) => leafPaths(option, prefix));
    const unique = new Map(all.map((path) => [path.join('.'), path]));
    return [...unique.values()];
  }
  return [prefix];
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
