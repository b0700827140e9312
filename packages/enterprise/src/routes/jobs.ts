import { PassThrough } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { principalOf } from '../auth/authenticate.js';
import { hasScope, type Scope } from '../auth/keys.js';
import type { RouteModule } from '../context.js';
import { apiError } from '../http/errors.js';
import { shownTo } from '../http/redact-paths.js';
import { sendEventStream, sseEvent } from '../http/sse.js';
import type { JobView } from '../jobs/registry.js';
import { IdParams } from '../schemas/common.js';
import { JobEvent, JobList, JobListQuery, JobSchema } from '../schemas/jobs.js';

/**
 * The scope a job's kind needs: what starting it needed. Reading, following or cancelling a
 * job takes the same scope, so a key that may not ingest does not see ingest jobs either.
 */
export function scopeOfJob(kind: string): Scope {
  if (kind === 'ingest') return 'ingest';
  if (kind === 'consolidate') return 'memory:write';
  if (kind.startsWith('backup.')) return 'backup';
  return 'admin';
}

/** The job `id` of the caller's tenant, once the key is checked against its kind. */
function visibleJob(ctx: Parameters<RouteModule>[1], request: FastifyRequest, id: string) {
  const principal = principalOf(request);
  const job = ctx.jobs.get(principal.tenantId, id);
  const needed = scopeOfJob(job.kind);
  if (!hasScope(principal.scopes, needed)) {
    throw apiError('FORBIDDEN', `this key lacks the scope ${needed} of ${job.kind} jobs`, {
      scope: needed,
    });
  }
  return { principal, job: shownTo(principal, ctx.config.home, job) };
}

/** The jobs of the caller's tenant: read, followed as server-sent events, cancelled. */
export const jobRoutes: RouteModule = (api, ctx) => {
  api.get(
    '/jobs',
    {
      config: { access: 'authenticated' },
      schema: {
        summary: "This tenant's jobs, newest first (those whose kind the key's scopes cover)",
        tags: ['jobs'],
        querystring: JobListQuery,
        response: { 200: JobList },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { status, kind } = request.query;
      const items = ctx.jobs
        .list(principal.tenantId)
        .filter((job) => hasScope(principal.scopes, scopeOfJob(job.kind)))
        .filter((job) => status === undefined || job.status === status)
        .filter((job) => kind === undefined || job.kind === kind);
      return { items: shownTo(principal, ctx.config.home, items) };
    },
  );

  api.get(
    '/jobs/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        summary: 'A job: its status, progress, and its result or error once it ended',
        tags: ['jobs'],
        params: IdParams,
        response: { 200: JobSchema },
      },
    },
    async (request) => visibleJob(ctx, request, request.params.id).job,
  );

  api.get(
    '/jobs/:id/events',
    {
      config: { access: 'authenticated' },
      schema: {
        summary:
          'Follow a job as server-sent events: `job` on every change of its progress, then `end` with its final state',
        tags: ['jobs'],
        params: IdParams,
        response: {
          200: {
            description: 'event: job / event: end, each with the job as JSON data',
            content: { 'text/event-stream': { schema: JobEvent } },
          },
        },
      },
    },
    async (request, reply) => {
      const { principal } = visibleJob(ctx, request, request.params.id);
      const body = new PassThrough();
      let stop: (() => void) | undefined;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        stop?.();
        body.end();
      };
      const send = (view: JobView) => {
        if (ended) return;
        const event = view.status === 'running' ? 'job' : 'end';
        body.write(sseEvent(event, shownTo(principal, ctx.config.home, view)));
        if (view.status !== 'running') end();
      };
      stop = ctx.jobs.follow(principal.tenantId, request.params.id, send);
      if (ended) stop();
      // The client going away ends the stream (and the following).
      reply.raw.on('close', end);
      return sendEventStream(reply, body);
    },
  );

  api.delete(
    '/jobs/:id',
    {
      config: { access: 'authenticated', action: 'jobs.cancel' },
      schema: {
        summary:
          'Cancel a running job (it stops at its next step; what it stored stays); JOB_FINISHED when it has ended',
        tags: ['jobs'],
        params: IdParams,
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const { principal } = visibleJob(ctx, request, request.params.id);
      const view = ctx.jobs.cancel(principal.tenantId, request.params.id);
      return reply.status(202).send(shownTo(principal, ctx.config.home, view));
    },
  );
};
