import { rm } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import {
  type Aios,
  DEFAULT_INGEST_NAMESPACE,
  INGEST_KINDS_TEXT,
  type IngestResult,
  ingest,
} from '@aios/core';
import type { RouteModule } from '../context.js';
import type { JobContext } from '../jobs/registry.js';
import { Turns } from '../jobs/turns.js';
import { IngestUpload } from '../schemas/ingest.js';
import { JobSchema } from '../schemas/jobs.js';
import { namespaceDir, placeUpload, type StagedUpload, stageUpload } from './ingest-upload.js';
import { systemOf, tenantOf } from './tenant.js';

/** The name a file was uploaded as, from where it is staged under `dir`. */
const uploadedName = (dir: string) => (path: string) => relative(dir, path).split(sep).join('/');

/** An ingest result with the uploaded names in place of the paths they were staged at. */
function resultView(result: IngestResult, dir: string) {
  const name = uploadedName(dir);
  return {
    namespace: result.namespace,
    files: result.files.map(({ path, ...counts }) => ({ name: name(path), ...counts })),
    chunks: result.chunks,
    added: result.added,
    duplicate: result.duplicate,
    merged: result.merged,
    unchanged: result.unchanged,
    removed: result.removed,
    skipped: result.skipped.map((s) => ({ name: name(s.path), reason: s.reason })),
    interrupted: result.interrupted ?? null,
  };
}

/**
 * Ingests an upload as `aios ingest` ingests files: each namespace's uploads are ingested
 * from one directory, so a file uploaded again under the same name is compared with what it
 * gave the last time (unchanged: skipped; changed: its removed pieces go). The files are
 * removed once ingested, whatever the outcome.
 */
async function ingestUpload(
  system: Aios,
  upload: StagedUpload,
  namespace: string,
  { signal, progress }: JobContext,
) {
  const dir = namespaceDir(system.home, namespace);
  try {
    const paths = await placeUpload(upload, dir);
    const result = await ingest(system, paths, {
      namespace,
      signal,
      // Recorded and cited as uploaded (`plan.md`), not where this server staged it: the
      // same file uploaded again, through this server or another, is the same source.
      sourceName: uploadedName(dir),
      onProgress: (p) =>
        progress({
          done: p.bytesDone,
          total: p.bytesTotal,
          unit: 'bytes',
          message: uploadedName(dir)(p.file),
        }),
    });
    return resultView(result, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `POST /v1/ingest`: a multipart upload of files, ingested into CARMA as a job. */
export const ingestRoutes: RouteModule = (api, ctx) => {
  /** Each tenant's ingests run one after the other (they share the uploads' directories). */
  const turns = new Turns();

  api.post(
    '/ingest',
    {
      config: { access: 'ingest', action: 'ingest' },
      // The body is a multipart stream the handler reads and checks as it arrives; the
      // schema describes it for the OpenAPI document.
      validatorCompiler: () => () => true,
      schema: {
        summary: `Upload files (multipart/form-data) and ingest them into memory as a job: ${INGEST_KINDS_TEXT}`,
        tags: ['ingest'],
        consumes: ['multipart/form-data'],
        body: IngestUpload,
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const system = await systemOf(ctx, request);
      const tenant = tenantOf(request);
      const upload = await stageUpload(request, system.home, ctx.config.server.uploadLimitBytes);
      const namespace = upload.namespace ?? DEFAULT_INGEST_NAMESPACE;
      try {
        const job = ctx.jobs.start(tenant, 'ingest', async (run) => {
          try {
            return await turns.run(tenant, run, () => ingestUpload(system, upload, namespace, run));
          } finally {
            await rm(upload.dir, { recursive: true, force: true });
          }
        });
        return reply.status(202).send(job);
      } catch (error) {
        await rm(upload.dir, { recursive: true, force: true });
        throw error;
      }
    },
  );
};
