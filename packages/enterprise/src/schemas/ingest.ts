import { INGEST_KINDS_TEXT } from '@aios/core';
import { MAX_NAMESPACE_LENGTH } from '@aios/data';
import { Type } from 'typebox';

/** The multipart form of an upload, as the OpenAPI document describes it. */
export const IngestUpload = Type.Object(
  {
    file: Type.Array(Type.String({ format: 'binary' }), {
      minItems: 1,
      maxItems: 100,
      description: `The files, one part each: ${INGEST_KINDS_TEXT}; the file name (a relative path keeps folders apart) says which`,
    }),
    namespace: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: MAX_NAMESPACE_LENGTH,
        description: 'Default: documents',
      }),
    ),
  },
  { additionalProperties: false },
);

const FileResult = Type.Object({
  name: Type.String(),
  status: Type.String({ description: 'new, changed, or unchanged (skipped)' }),
  chunks: Type.Integer(),
  added: Type.Integer(),
  duplicate: Type.Integer(),
  merged: Type.Integer(),
  kept: Type.Integer(),
  edited: Type.Integer(),
  deleted: Type.Integer(),
  removed: Type.Integer(),
  conflicts: Type.Integer(),
});

/** What an ingest job returns. */
export const IngestResultView = Type.Object(
  {
    namespace: Type.String(),
    files: Type.Array(FileResult),
    chunks: Type.Integer(),
    added: Type.Integer(),
    duplicate: Type.Integer(),
    merged: Type.Integer(),
    unchanged: Type.Integer(),
    removed: Type.Integer(),
    skipped: Type.Array(Type.Object({ name: Type.String(), reason: Type.String() })),
    interrupted: Type.Union([Type.String(), Type.Null()]),
  },
  { title: 'IngestResult' },
);
