import { MAX_NAMESPACE_LENGTH, MAX_TEXT_LENGTH } from '@aios/carma';
import { Type } from 'typebox';
import { Body, JsonObject, PageQuery, Timestamp } from './common.js';

/** Most fragments one `POST /v1/memory/batch` adds. */
export const MAX_BATCH = 500;
/** Most results one search returns. */
export const MAX_K = 200;

const Scalar = Type.Union([
  Type.String({ maxLength: MAX_TEXT_LENGTH }),
  Type.Number(),
  Type.Boolean(),
]);

/** A fragment's own fields (`source`, `line`, tags...): scalars or arrays of scalars. */
export const Metadata = Type.Record(
  Type.String({ minLength: 1, maxLength: 200 }),
  Type.Union([Scalar, Type.Null(), Type.Array(Scalar, { maxItems: 1000 })]),
  { maxProperties: 100, description: 'The fragment’s own fields: scalars or arrays of scalars' },
);

const Text = Type.String({
  minLength: 1,
  maxLength: MAX_TEXT_LENGTH,
  description: `The fragment's text (at most ${MAX_TEXT_LENGTH} characters)`,
});
export const Namespace = Type.String({ minLength: 1, maxLength: MAX_NAMESPACE_LENGTH });
const Importance = Type.Number({ minimum: 0, maximum: 1, description: '0 to 1' });

const fragmentInput = {
  text: Text,
  namespace: Type.Optional(Namespace),
  metadata: Type.Optional(Metadata),
  importance: Type.Optional(Importance),
  core: Type.Optional(Type.Boolean({ description: 'Core memories are exempt from recency decay' })),
};

export const FragmentInputBody = Body(fragmentInput);

export const BatchBody = Body({
  items: Type.Array(Type.Object(fragmentInput, { additionalProperties: false }), {
    minItems: 1,
    maxItems: MAX_BATCH,
  }),
});

export const UpdateBody = Type.Object(
  {
    text: Type.Optional(Text),
    metadata: Type.Optional(Metadata),
    importance: Type.Optional(Importance),
    core: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const FragmentView = Type.Object({
  id: Type.String(),
  namespace: Type.String(),
  text: Type.String(),
  metadata: JsonObject,
  /** `metadata.source` when it is a string (the file an ingested fragment came from). */
  source: Type.Union([Type.String(), Type.Null()]),
  importance: Type.Number(),
  core: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  accessedAt: Timestamp,
  accessCount: Type.Integer(),
  reinforcements: Type.Integer(),
  mergedFrom: Type.Array(Type.String()),
  links: Type.Array(Type.String()),
});

const NearDuplicate = Type.Object({ id: Type.String(), similarity: Type.Number() });

export const AddResultView = Type.Object({
  status: Type.Union([Type.Literal('added'), Type.Literal('duplicate'), Type.Literal('merged')]),
  fragment: FragmentView,
  nearDuplicates: Type.Array(NearDuplicate),
});

export const ListQuery = Type.Object({
  ...PageQuery,
  namespace: Type.Optional(Namespace),
  source: Type.Optional(
    Type.String({ minLength: 1, maxLength: 4096, description: 'metadata.source equals this' }),
  ),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'created at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'created before' })),
  minImportance: Type.Optional(Importance),
  maxImportance: Type.Optional(Importance),
});

export const SearchMode = Type.Union([
  Type.Literal('hybrid'),
  Type.Literal('vector'),
  Type.Literal('lexical'),
]);

export const SearchBody = Body({
  query: Type.String({ minLength: 1, maxLength: MAX_TEXT_LENGTH }),
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_K })),
  mode: Type.Optional(SearchMode),
  namespace: Type.Optional(Namespace),
  filter: Type.Optional(
    Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.Unknown(), {
      maxProperties: 50,
      description:
        'Every condition must hold: a value, or operators $eq $ne $gt $gte $lt $lte $in $nin $exists, on importance, createdAt, updatedAt, accessedAt, core, namespace, id or a metadata field',
    }),
  ),
  explain: Type.Optional(
    Type.Boolean({ description: 'Add the lexical and vector parts of each score' }),
  ),
});

const Part = Type.Object({ score: Type.Number(), rank: Type.Integer(), normalized: Type.Number() });

export const Explanation = Type.Object({
  lexical: Type.Optional(Part),
  vector: Type.Optional(Part),
  base: Type.Number(),
  recency: Type.Optional(Type.Number()),
  importance: Type.Optional(Type.Number()),
  final: Type.Number(),
});

export const SearchResponse = Type.Object({
  query: Type.String(),
  k: Type.Integer(),
  mode: SearchMode,
  /** Set when the configured mode failed (a remote embedder down) and lexical answered. */
  fallback: Type.Union([Type.Object({ from: SearchMode, reason: Type.String() }), Type.Null()]),
  results: Type.Array(
    Type.Object({
      id: Type.String(),
      score: Type.Number(),
      fragment: FragmentView,
      explain: Type.Optional(Explanation),
    }),
  ),
});

export const HistoryEntry = Type.Object({
  version: Type.Integer(),
  kind: Type.String({ description: 'add, update, delete, reinforce, merge or link' }),
  at: Timestamp,
  text: Type.String(),
  metadata: JsonObject,
  importance: Type.Number(),
  note: Type.Union([Type.String(), Type.Null()]),
});

export const HistoryResponse = Type.Object({
  id: Type.String(),
  deleted: Type.Boolean(),
  items: Type.Array(HistoryEntry),
});

export const NamespacesResponse = Type.Object({
  items: Type.Array(Type.Object({ name: Type.String(), fragments: Type.Integer() })),
});

export const StatsResponse = Type.Object({
  fragments: Type.Integer(),
  /** Rows of deleted and replaced fragments the vector index holds until it is compacted. */
  deadRows: Type.Integer({ minimum: 0 }),
  namespaces: Type.Record(Type.String(), Type.Integer()),
  embedder: Type.String(),
  dimension: Type.Union([Type.Integer(), Type.Null()]),
  implementation: Type.String(),
  conversations: Type.Integer(),
  messages: Type.Integer(),
});

export const ConsolidateBody = Body({
  namespace: Type.Optional(Namespace),
  clusters: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  mergeThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  linkThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  maxLinks: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
});
