import { Type } from 'typebox';
import { Body } from './common.js';

/** A snapshot id, a unique prefix of one (4+ hex digits), or `latest` (the newest). */
export const SnapshotRef = Type.String({
  pattern: '^(latest|[0-9a-f]{4,64})$',
  description: 'a snapshot id, a unique prefix of at least 4 hex digits, or "latest"',
});

export const SnapshotParams = Type.Object({ id: SnapshotRef });

export const SnapshotView = Type.Object(
  {
    id: Type.String(),
    time: Type.String(),
    tags: Type.Array(Type.String()),
    parent: Type.Union([Type.String(), Type.Null()]),
    summary: Type.Object({
      files: Type.Integer(),
      dirs: Type.Integer(),
      bytes: Type.Integer(),
      filesNew: Type.Integer(),
      filesChanged: Type.Integer(),
      filesUnchanged: Type.Integer(),
      bytesStored: Type.Integer(),
      durationMs: Type.Number(),
    }),
  },
  { title: 'Snapshot' },
);

export const SnapshotList = Type.Object({
  items: Type.Array(SnapshotView, { description: 'The intact snapshots, oldest first' }),
  damaged: Type.Array(
    Type.Object({ id: Type.String(), code: Type.String(), message: Type.String() }),
    { description: 'Snapshot files that cannot be read; forgetting them by id removes them' },
  ),
});

export const CreateBackupBody = Body({
  tags: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\s,]+$' }), {
      maxItems: 20,
    }),
  ),
});

export const VerifyBody = Body({
  readData: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 100,
      description: 'Percentage of packs read back and re-hashed (0: structure only)',
    }),
  ),
});

export const RestoreBody = Body({
  confirm: Type.Literal(true, {
    description: "Restoring replaces the tenant's data with the snapshot's: say so",
  }),
});

export const DiffQuery = Type.Object({ from: SnapshotRef, to: SnapshotRef });

export const DiffView = Type.Object({
  from: Type.String(),
  to: Type.String(),
  added: Type.Array(Type.String()),
  removed: Type.Array(Type.String()),
  modified: Type.Array(Type.String(), { description: 'Content, type or link target changed' }),
  metadata: Type.Array(Type.String(), { description: 'Only mode or mtime changed' }),
});

export const ForgetView = Type.Object({ removed: Type.Array(Type.String()) });
