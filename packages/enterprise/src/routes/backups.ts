import { relative } from 'node:path';
import type { Aios } from '@aios/core';
import { isAiosError } from '@aios/utils';
import type { RouteModule, ServerContext } from '../context.js';
import { apiError } from '../http/errors.js';
import type { JobOptions } from '../jobs/registry.js';
import { Turns } from '../jobs/turns.js';
import {
  CreateBackupBody,
  DiffQuery,
  DiffView,
  ForgetView,
  RestoreBody,
  SnapshotList,
  SnapshotParams,
  VerifyBody,
} from '../schemas/backups.js';
import { JobSchema } from '../schemas/jobs.js';
import { DEFAULT_TENANT } from '../tenants/ids.js';
import { systemOf, tenantOf } from './tenant.js';

type SnapshotInfo = Awaited<ReturnType<Aios['backup']['list']>>['snapshots'][number];

export function snapshotView(s: SnapshotInfo) {
  return {
    id: s.id,
    time: s.time,
    tags: s.tags,
    parent: s.parent,
    summary: {
      files: s.summary.files,
      dirs: s.summary.dirs,
      bytes: s.summary.bytes,
      filesNew: s.summary.filesNew,
      filesChanged: s.summary.filesChanged,
      filesUnchanged: s.summary.filesUnchanged,
      bytesStored: s.summary.bytesStored,
      durationMs: s.summary.durationMs,
    },
  };
}

const noSnapshot = (ref: string) =>
  apiError('SNAPSHOT_NOT_FOUND', `no snapshot ${ref} in this tenant's backups`, {
    snapshot: ref,
  });

/**
 * The full id of a snapshot of `system`'s repository, as the repository resolves every
 * reference (`latest`, an id or a unique prefix). Another tenant's snapshot is in another
 * repository: not found.
 */
export async function resolveSnapshot(system: Aios, ref: string): Promise<string> {
  if (!system.backup.exists()) throw noSnapshot(ref);
  try {
    return await system.backup.resolveSnapshot(ref);
  } catch (error) {
    // The repository's own message names its path on the server's disk.
    if (isAiosError(error) && error.code === 'SNAPSHOT_NOT_FOUND') throw noSnapshot(ref);
    throw error;
  }
}

/**
 * A backup operation stops on the job's signal by throwing (`ABORTED`): one that returns
 * did all of its work (a snapshot written, a restore applied), and the job says so even
 * when a cancel came too late to stop it.
 */
const BACKUP_JOB: JobOptions = { throwsWhenStopped: true };

/** Running jobs of a tenant other than `except`. */
function otherRunningJobs(ctx: ServerContext, tenant: string, except?: string) {
  return ctx.jobs.list(tenant).filter((j) => j.status === 'running' && j.id !== except);
}

function refuseWhileJobsRun(ctx: ServerContext, tenant: string, except?: string): void {
  const running = otherRunningJobs(ctx, tenant, except);
  if (running.length > 0) {
    throw apiError(
      'JOBS_RUNNING',
      `a restore replaces the tenant's data: wait for its running jobs (${running.map((j) => `${j.kind} ${j.id}`).join(', ')}) or cancel them first`,
      { jobs: running.map((j) => j.id) },
    );
  }
}

/**
 * The backups of the caller's tenant, in its own repository (`<tenant home>/backups`):
 * create, verify, restore and prune run as jobs; list, diff and forget answer at once.
 */
export const backupRoutes: RouteModule = (api, ctx) => {
  /** A tenant's backup jobs take turns: they share its repository (and its lock). */
  const turns = new Turns();

  api.post(
    '/backups',
    {
      config: { access: 'backup', action: 'backups.create' },
      schema: {
        summary: "Snapshot this tenant's data (a job; the repository is created on first use)",
        tags: ['backups'],
        body: CreateBackupBody,
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const system = await systemOf(ctx, request);
      const tags = request.body.tags ?? [];
      const tenant = tenantOf(request);
      const job = ctx.jobs.start(
        tenant,
        'backup.create',
        (run) =>
          turns.run(tenant, run, async () => {
            const result = await system.backup.create({
              tags,
              signal: run.signal,
              onProgress: (p) =>
                run.progress({
                  done: p.bytesDone,
                  total: p.bytesTotal,
                  unit: 'bytes',
                  message: p.phase,
                }),
            });
            return {
              snapshot: snapshotView(result.snapshot),
              warnings: result.warnings,
              repositoryWarnings: result.repositoryWarnings,
            };
          }),
        BACKUP_JOB,
      );
      return reply.status(202).send(job);
    },
  );

  api.get(
    '/backups',
    {
      config: { access: 'backup' },
      schema: {
        summary: "This tenant's snapshots, oldest first",
        tags: ['backups'],
        response: { 200: SnapshotList },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      if (!system.backup.exists()) return { items: [], damaged: [] };
      const list = await system.backup.list();
      return { items: list.snapshots.map(snapshotView), damaged: list.damaged };
    },
  );

  api.get(
    '/backups/diff',
    {
      config: { access: 'backup' },
      schema: {
        summary: 'Paths added, removed and changed from one snapshot to another',
        tags: ['backups'],
        querystring: DiffQuery,
        response: { 200: DiffView },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const from = await resolveSnapshot(system, request.query.from);
      const to = await resolveSnapshot(system, request.query.to);
      const diff = await (await system.backup.open()).diff(from, to);
      // A snapshot holds paths from the root of the server's disk: a tenant is shown them
      // from its own home, which is all its snapshots hold.
      const home = relative('/', system.home);
      const local = (paths: string[]) =>
        paths.map((p) =>
          p === home ? '.' : p.startsWith(`${home}/`) ? p.slice(home.length + 1) : p,
        );
      return {
        from,
        to,
        added: local(diff.added),
        removed: local(diff.removed),
        modified: local(diff.modified),
        metadata: local(diff.metadata),
      };
    },
  );

  api.post(
    '/backups/verify',
    {
      config: { access: 'backup', action: 'backups.verify' },
      schema: {
        summary: "Check this tenant's repository, reading back a share of its data (a job)",
        tags: ['backups'],
        body: VerifyBody,
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const system = await systemOf(ctx, request);
      if (!system.backup.exists()) {
        throw apiError('REPO_NOT_FOUND', 'this tenant has no backups yet: create one first');
      }
      const readData = request.body.readData;
      const tenant = tenantOf(request);
      const job = ctx.jobs.start(
        tenant,
        'backup.verify',
        (run) => turns.run(tenant, run, () => system.backup.verify(readData, run.signal)),
        BACKUP_JOB,
      );
      return reply.status(202).send(job);
    },
  );

  api.post(
    '/backups/prune',
    {
      config: { access: 'backup', action: 'backups.prune' },
      schema: {
        summary: 'Delete the data no snapshot uses any more (a job)',
        tags: ['backups'],
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const system = await systemOf(ctx, request);
      if (!system.backup.exists()) {
        throw apiError('REPO_NOT_FOUND', 'this tenant has no backups yet: nothing to prune');
      }
      const tenant = tenantOf(request);
      const job = ctx.jobs.start(
        tenant,
        'backup.prune',
        (run) => turns.run(tenant, run, () => system.backup.prune(run.signal)),
        BACKUP_JOB,
      );
      return reply.status(202).send(job);
    },
  );

  api.post(
    '/backups/:id/restore',
    {
      config: { access: 'backup', action: 'backups.restore' },
      schema: {
        summary:
          "Replace this tenant's data with a snapshot's (a job; the tenant is unavailable meanwhile). The default tenant is restored with the CLI, the server stopped",
        tags: ['backups'],
        params: SnapshotParams,
        body: RestoreBody,
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const system = await systemOf(ctx, request);
      const id = await resolveSnapshot(system, request.params.id);
      if (tenant === DEFAULT_TENANT) {
        // Its home holds the server's own store (keys, audit log), open while it runs.
        throw apiError(
          'RESTORE_NEEDS_STOPPED_SERVER',
          `the default tenant's home holds the server's own store, which stays open while the server runs: stop the server, then run \`aios backup restore ${id.slice(0, 12)}\` on its home (${system.home})`,
          { snapshot: id },
        );
      }
      refuseWhileJobsRun(ctx, tenant);
      const job = ctx.jobs.start(
        tenant,
        'backup.restore',
        (run) => turns.run(tenant, run, () => restore(run.signal)),
        BACKUP_JOB,
      );
      const restore = (signal: AbortSignal) =>
        ctx.tenants.whileClosed(tenant, `snapshot ${id.slice(0, 12)} is restored`, async () => {
          // A job started before the tenant was held would see its system closed under it.
          refuseWhileJobsRun(ctx, tenant, job.id);
          const result = await system.backup.restore(id, undefined, { signal });
          return {
            snapshot: id,
            applied: result.applied,
            files: result.files,
            dirs: result.dirs,
            symlinks: result.symlinks,
            bytes: result.bytes,
            errors: result.errors,
          };
        });
      return reply.status(202).send(job);
    },
  );

  api.delete(
    '/backups/:id',
    {
      config: { access: 'backup', action: 'backups.forget' },
      schema: {
        summary:
          'Forget a snapshot (damaged ones too); its data is freed by the next prune (POST /v1/backups/prune)',
        tags: ['backups'],
        params: SnapshotParams,
        response: { 200: ForgetView },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      // Ids are resolved from the file names: a damaged snapshot is forgotten as well.
      const id = await resolveSnapshot(system, request.params.id);
      const { remove } = await system.backup.forgetSnapshots([id]);
      return { removed: remove };
    },
  );
};
