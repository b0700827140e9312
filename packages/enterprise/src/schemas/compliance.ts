import { MAX_NAMESPACE_LENGTH } from '@aios/data';
import { Type } from 'typebox';
import { Body, JsonObject } from './common.js';

export const TenantIdSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });

export const ExportQuery = Type.Object({
  tenant: Type.Optional(TenantIdSchema),
});

const Items = Type.Array(JsonObject);

/** The archive of `GET /v1/compliance/export`. */
export const TenantArchive = Type.Object(
  {
    format: Type.Literal('aios-tenant-export'),
    version: Type.Integer(),
    tenant: Type.String(),
    exportedAt: Type.String(),
    memories: Type.Array(JsonObject, { description: 'Every memory with its history' }),
    deletedMemories: Type.Array(JsonObject, {
      description: 'Memories deleted whose history is kept: their id and history',
    }),
    conversations: Type.Array(JsonObject, { description: 'Every conversation with its messages' }),
    feedback: Items,
    personality: Type.Array(JsonObject, { description: 'Every version of the personality' }),
    sources: Type.Array(JsonObject, { description: 'The files ingested' }),
    audit: Type.Array(JsonObject, { description: 'The audit entries about the tenant' }),
  },
  { title: 'TenantArchive' },
);

export const EraseBody = Body({
  namespace: Type.String({ minLength: 1, maxLength: MAX_NAMESPACE_LENGTH }),
  confirm: Type.Literal(true, { description: 'Erasure cannot be undone: say so' }),
  tenant: Type.Optional(TenantIdSchema),
  deleteCitingConversations: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        'Also delete the conversations whose answers cite an erased memory (their text may quote it)',
    }),
  ),
});

export const ErasureReportSchema = Type.Object(
  {
    tenant: Type.String(),
    namespace: Type.String(),
    erasedAt: Type.String(),
    removed: Type.Object({
      fragments: Type.Integer(),
      vectors: Type.Integer(),
      historyRows: Type.Integer(),
      sources: Type.Integer(),
      sourcePieces: Type.Integer(),
    }),
    database: Type.Object({ compacted: Type.Boolean(), walCheckpointed: Type.Boolean() }),
    conversations: Type.Object({
      citing: Type.Array(Type.String()),
      deleted: Type.Boolean(),
    }),
    backups: Type.Object({
      snapshots: Type.Array(Type.Object({ id: Type.String(), time: Type.String() }), {
        description: 'Snapshots taken while the erased data existed: they still hold it',
      }),
      command: Type.Union([Type.String(), Type.Null()], {
        description: 'The command that forgets them and frees their data',
      }),
    }),
  },
  { title: 'ErasureReport' },
);

export const TenantParams = Type.Object({ id: TenantIdSchema });

export const TenantErasureSchema = Type.Object(
  {
    tenant: Type.String(),
    erasedAt: Type.String(),
    jobsCancelled: Type.Integer(),
    keysDeleted: Type.Integer(),
    files: Type.Integer(),
    bytes: Type.Integer(),
    backupSnapshots: Type.Integer({ description: 'Snapshots deleted with its home' }),
    schema: Type.Union([Type.String(), Type.Null()], {
      description: 'The PostgreSQL schema dropped with its store (null: a file in its home)',
    }),
  },
  { title: 'TenantErasure' },
);
