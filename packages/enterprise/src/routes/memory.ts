import type { Filter, FragmentInput, SearchMode, SearchResult } from '@aios/carma';
import type { Aios } from '@aios/core';
import { isAiosError } from '@aios/utils';
import { Type } from 'typebox';
import type { RouteModule } from '../context.js';
import { apiError } from '../http/errors.js';
import type { JobProgress } from '../jobs/registry.js';
import { listPage } from '../memory/list.js';
import { fragmentView, historyEntryView, searchResultView } from '../memory/views.js';
import { IdParams, Page } from '../schemas/common.js';
import { JobSchema } from '../schemas/jobs.js';
import {
  AddResultView,
  BatchBody,
  ConsolidateBody,
  FragmentInputBody,
  FragmentView,
  HistoryResponse,
  ListQuery,
  NamespacesResponse,
  SearchBody,
  SearchResponse,
  StatsResponse,
  UpdateBody,
} from '../schemas/memory.js';
import { systemOf, tenantOf } from './tenant.js';

const TAGS = ['memory'];

/** Failures of a remote embedder: the configured mode gives way to lexical search. */
const EMBEDDER_DOWN = new Set(['EMBEDDER_FAILED', 'EMBEDDER_TIMEOUT']);

const fragmentNotFound = (id: string) =>
  apiError('FRAGMENT_NOT_FOUND', `no fragment with id ${JSON.stringify(id)}`, { id });

function addResultView(r: Awaited<ReturnType<Aios['memory']['add']>>) {
  return {
    status: r.status,
    fragment: fragmentView(r.fragment),
    nearDuplicates: r.nearDuplicates,
  };
}

const time = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

/**
 * Searches as asked; when the mode came from the config (not the request) and a remote
 * embedder is down, lexical search answers instead, as it does for `ask`.
 */
async function search(
  system: Aios,
  query: string,
  options: { k: number; mode: SearchMode; namespace?: string; filter?: Filter; explain: boolean },
  modeGiven: boolean,
): Promise<{
  mode: SearchMode;
  results: SearchResult[];
  fallback: { from: SearchMode; reason: string } | null;
}> {
  const started = performance.now();
  const run = async (mode: SearchMode) => {
    const results = await system.memory.search(query, { ...options, mode });
    system.metrics.observeSearch('carma', mode, (performance.now() - started) / 1000);
    return results;
  };
  try {
    return { mode: options.mode, results: await run(options.mode), fallback: null };
  } catch (error) {
    if (
      modeGiven ||
      options.mode === 'lexical' ||
      !isAiosError(error) ||
      !EMBEDDER_DOWN.has(error.code)
    ) {
      throw error;
    }
    return {
      mode: 'lexical',
      results: await run('lexical'),
      fallback: { from: options.mode, reason: `${error.code}: ${error.message}` },
    };
  }
}

/** The tenant's memory (CARMA): fragments, search, history, namespaces, stats, consolidation. */
export const memoryRoutes: RouteModule = (api, ctx) => {
  api.post(
    '/memory',
    {
      config: { access: 'memory:write', action: 'memory.add' },
      schema: {
        summary:
          'Add a fragment (201; 200 when the namespace already holds the same text, or it was merged into a near-duplicate)',
        tags: TAGS,
        body: FragmentInputBody,
        response: { 200: AddResultView, 201: AddResultView },
      },
    },
    async (request, reply) => {
      const system = await systemOf(ctx, request);
      const result = await system.memory.add(request.body as FragmentInput);
      return reply.status(result.status === 'added' ? 201 : 200).send(addResultView(result));
    },
  );

  api.post(
    '/memory/batch',
    {
      config: { access: 'memory:write', action: 'memory.add_many' },
      schema: {
        summary:
          'Add many fragments at once: all are checked before any is stored; each result in the order given',
        tags: TAGS,
        body: BatchBody,
        response: { 200: Type.Object({ items: Type.Array(AddResultView) }) },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const results = await system.memory.addMany(request.body.items as FragmentInput[]);
      return { items: results.map(addResultView) };
    },
  );

  api.get(
    '/memory',
    {
      config: { access: 'memory:read' },
      schema: {
        summary:
          'List fragments in a stable order, a page at a time (a page may be short, even empty, while nextCursor is set: follow it to the end)',
        tags: TAGS,
        querystring: ListQuery,
        response: { 200: Page(FragmentView) },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const q = request.query;
      const page = await listPage(system, {
        limit: q.limit ?? 50,
        ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
        ...(q.namespace === undefined ? {} : { namespace: q.namespace }),
        ...(q.source === undefined ? {} : { source: q.source }),
        ...(q.from === undefined ? {} : { from: time(q.from) }),
        ...(q.to === undefined ? {} : { to: time(q.to) }),
        ...(q.minImportance === undefined ? {} : { minImportance: q.minImportance }),
        ...(q.maxImportance === undefined ? {} : { maxImportance: q.maxImportance }),
      });
      return { items: page.items.map(fragmentView), nextCursor: page.nextCursor };
    },
  );

  api.post(
    '/memory/search',
    {
      config: { access: 'memory:read', audit: false },
      schema: {
        summary:
          'Search the memory (hybrid, vector or lexical), with a namespace, a filter and, on request, the lexical and vector parts of each score',
        tags: TAGS,
        body: SearchBody,
        response: { 200: SearchResponse },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const body = request.body;
      const k = body.k ?? system.config.carma.search.k;
      const found = await search(
        system,
        body.query,
        {
          k,
          mode: body.mode ?? system.config.carma.search.mode,
          ...(body.namespace === undefined ? {} : { namespace: body.namespace }),
          ...(body.filter === undefined ? {} : { filter: body.filter as Filter }),
          explain: body.explain === true,
        },
        body.mode !== undefined,
      );
      return {
        query: body.query,
        k,
        mode: found.mode,
        fallback: found.fallback,
        results: found.results.map(searchResultView),
      };
    },
  );

  api.get(
    '/memory/namespaces',
    {
      config: { access: 'memory:read' },
      schema: {
        summary: 'The namespaces of the memory, with how many fragments each holds',
        tags: TAGS,
        response: { 200: NamespacesResponse },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      await system.memory.refresh();
      const counts = system.memory.namespaces();
      return {
        items: Object.keys(counts)
          .sort()
          .map((name) => ({ name, fragments: counts[name] ?? 0 })),
      };
    },
  );

  api.get(
    '/memory/stats',
    {
      config: { access: 'memory:read' },
      schema: {
        summary: 'How much the memory holds: fragments per namespace, embedder, conversations',
        tags: TAGS,
        response: { 200: StatsResponse },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      await system.memory.refresh();
      const stats = system.memory.stats();
      return {
        fragments: stats.fragments,
        deadRows: stats.deadRows,
        namespaces: stats.namespaces,
        embedder: stats.embedder,
        dimension: stats.dimension ?? null,
        implementation: stats.implementation,
        conversations: await system.data.conversations.count(),
        messages: await system.data.messages.count(),
      };
    },
  );

  api.post(
    '/memory/consolidate',
    {
      config: { access: 'memory:write', action: 'memory.consolidate' },
      schema: {
        summary:
          'Consolidate the memory as a job (202): cluster, merge near-duplicates, link related fragments; progress in clusters, cancel through the job',
        tags: TAGS,
        body: ConsolidateBody,
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const system = await systemOf(ctx, request);
      // Started here, so that options CARMA refuses are a 400, not a failed job.
      let last: JobProgress | undefined;
      let report: ((p: JobProgress) => void) | undefined;
      const task = system.memory.consolidate({
        ...request.body,
        onProgress: (e) => {
          last = { done: e.done, total: e.total, unit: 'clusters', message: e.phase };
          report?.(last);
        },
      });
      // The job awaits it a moment later; a failure meanwhile is not an unhandled rejection.
      task.done.catch(() => undefined);
      let job: ReturnType<typeof ctx.jobs.start>;
      try {
        job = ctx.jobs.start(tenantOf(request), 'consolidate', async ({ signal, progress }) => {
          report = progress;
          if (last) progress(last);
          const cancel = () => task.cancel();
          if (signal.aborted) cancel();
          signal.addEventListener('abort', cancel, { once: true });
          try {
            return await task.done;
          } finally {
            signal.removeEventListener('abort', cancel);
          }
        });
      } catch (error) {
        task.cancel();
        await task.done.catch(() => undefined);
        throw error;
      }
      return reply.status(202).send(job);
    },
  );

  api.get(
    '/memory/:id',
    {
      config: { access: 'memory:read' },
      schema: {
        summary: 'One fragment',
        tags: TAGS,
        params: IdParams,
        response: { 200: FragmentView },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      await system.memory.refresh();
      const f = await system.memory.get(request.params.id);
      if (!f) throw fragmentNotFound(request.params.id);
      return fragmentView(f);
    },
  );

  api.patch(
    '/memory/:id',
    {
      config: { access: 'memory:write', action: 'memory.update' },
      schema: {
        summary:
          'Change a fragment: text (embedded again), metadata (replaced whole), importance, core; the old version stays in its history',
        tags: TAGS,
        params: IdParams,
        body: UpdateBody,
        response: { 200: FragmentView },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const f = await system.memory.update(
        request.params.id,
        request.body as Parameters<Aios['memory']['update']>[1],
      );
      return fragmentView(f);
    },
  );

  api.delete(
    '/memory/:id',
    {
      config: { access: 'memory:write', action: 'memory.delete' },
      schema: {
        summary: 'Delete a fragment (its history stays readable)',
        tags: TAGS,
        params: IdParams,
        response: { 200: Type.Object({ id: Type.String(), deleted: Type.Literal(true) }) },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      await system.memory.delete(request.params.id);
      return { id: request.params.id, deleted: true as const };
    },
  );

  api.get(
    '/memory/:id/history',
    {
      config: { access: 'memory:read' },
      schema: {
        summary:
          'Every change of a fragment, oldest first, each with what the fragment was after it (also once deleted)',
        tags: TAGS,
        params: IdParams,
        response: { 200: HistoryResponse },
      },
    },
    async (request) => {
      const system = await systemOf(ctx, request);
      const { id } = request.params;
      const changes = await system.memory.history(id);
      await system.memory.refresh();
      return {
        id,
        deleted: (await system.memory.get(id)) === undefined,
        items: changes.map(historyEntryView),
      };
    },
  );
};
