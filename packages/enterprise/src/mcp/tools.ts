import type { Aios } from '@aios/core';
import { AiosError, invalidInput } from '@aios/utils';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { askOptions } from '../ask/options.js';
import type { Scope } from '../auth/keys.js';
import { type McpAccess, toolError, toolResult } from './access.js';
import {
  ChangeView,
  changeView,
  FragmentView,
  fragmentView,
  LIST_TEXT_CHARS,
  Metadata,
} from './views.js';

/**
 * The memory tools: add, search, get, update, delete, history and list a memory's
 * fragments, and ask Luna. Each has input and output schemas, answers with structured
 * content, and says whether it only reads or may destroy. Every list is bounded (`k`,
 * `limit`, texts cut) so that no call puts a whole memory into a model's context. A bad
 * argument or a refusal is an error result; the session goes on.
 */

const Id = z.string().min(1).max(200).describe('A fragment id');
const Namespace = z.string().min(1).max(256);
const Filter = z
  .record(z.string(), z.unknown())
  .describe(
    'Conditions on fragment fields (importance, createdAt, core, namespace, id) or metadata keys: a value, or operators $eq $ne $gt $gte $lt $lte $in $nin $exists',
  );
const Text = z.string().min(1).max(200_000);

/** Cursors of `memory_list`: the creation time and id of the last fragment of a page. */
function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      typeof value[0] === 'number' &&
      typeof value[1] === 'string' &&
      value.length === 2
    ) {
      return [value[0], value[1]];
    }
  } catch {
    // refused below
  }
  throw invalidInput('cursor', cursor, 'the nextCursor of an earlier memory_list page');
}

type Handler<A> = (args: A, system: Aios) => Promise<Record<string, unknown>>;

export function registerMemoryTools(server: McpServer, access: McpAccess): void {
  /** Runs a tool: scope first, then the system; errors become error results. */
  const run =
    <A>(name: string, scope: Scope, writes: boolean, handler: Handler<A>) =>
    async (args: A): Promise<CallToolResult> => {
      const id = (args as { id?: unknown }).id;
      let target = typeof id === 'string' ? id : null;
      try {
        access.authorize(scope);
        const system = await access.system();
        const result = await handler(args, system);
        if (typeof result.id === 'string') target ??= result.id;
        if (writes) access.changed?.(`mcp.${name}`, target, 'ok');
        return toolResult(result);
      } catch (error) {
        if (writes) {
          const code = error instanceof AiosError ? error.code : 'INTERNAL';
          access.changed?.(`mcp.${name}`, target, code === 'INTERNAL' ? 'failed' : 'refused', code);
        }
        return toolError(error);
      }
    };

  server.registerTool(
    'memory_add',
    {
      title: 'Add a memory',
      description:
        'Stores a new memory fragment. The same text in the same namespace is stored once (status "duplicate"); near-duplicates are reported.',
      inputSchema: {
        text: Text,
        namespace: Namespace.optional().describe('Where to keep it (default "default")'),
        metadata: Metadata.optional(),
        importance: z.number().min(0).max(1).optional(),
        core: z.boolean().optional().describe('Core memories do not fade with age'),
      },
      outputSchema: {
        id: z.string(),
        status: z.enum(['added', 'duplicate', 'merged']),
        fragment: FragmentView,
        nearDuplicates: z.array(z.object({ id: z.string(), similarity: z.number() })).max(10),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    run('memory_add', 'memory:write', true, async (args, system) => {
      const added = await system.memory.add({
        text: args.text,
        ...(args.namespace === undefined ? {} : { namespace: args.namespace }),
        ...(args.metadata === undefined ? {} : { metadata: args.metadata }),
        ...(args.importance === undefined ? {} : { importance: args.importance }),
        ...(args.core === undefined ? {} : { core: args.core }),
      });
      return {
        id: added.fragment.id,
        status: added.status,
        fragment: fragmentView(added.fragment, LIST_TEXT_CHARS),
        nearDuplicates: added.nearDuplicates.slice(0, 10),
      };
    }),
  );

  server.registerTool(
    'memory_search',
    {
      title: 'Search memories',
      description:
        'The fragments that best match a query (hybrid lexical and vector search by default), best first, at most k; texts are cut to 1000 characters.',
      inputSchema: {
        query: z.string().min(1).max(10_000),
        k: z.number().int().min(1).max(50).optional().describe('How many (default 8, at most 50)'),
        namespace: Namespace.optional().describe('Only this namespace (default: all)'),
        filter: Filter.optional(),
        mode: z.enum(['hybrid', 'vector', 'lexical']).optional(),
      },
      outputSchema: {
        results: z.array(FragmentView.extend({ score: z.number() })).max(50),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    run('memory_search', 'memory:read', false, async (args, system) => {
      const results = await system.memory.search(args.query, {
        k: args.k ?? 8,
        mode: args.mode ?? system.config.carma.search.mode,
        ...(args.namespace === undefined ? {} : { namespace: args.namespace }),
        ...(args.filter === undefined ? {} : { filter: args.filter as never }),
      });
      return {
        results: results.map((r) => ({
          ...fragmentView(r.fragment, LIST_TEXT_CHARS),
          score: r.score,
        })),
      };
    }),
  );

  server.registerTool(
    'memory_get',
    {
      title: 'Get a memory',
      description: 'One fragment by id, with its whole text.',
      inputSchema: { id: Id },
      outputSchema: FragmentView.shape,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    run('memory_get', 'memory:read', false, async (args, system) => {
      // What other processes changed since this one last looked.
      await system.memory.refresh();
      const fragment = await system.memory.get(args.id);
      if (!fragment) {
        throw new AiosError(
          'FRAGMENT_NOT_FOUND',
          `no fragment with id ${JSON.stringify(args.id)}`,
          {
            details: { id: args.id },
          },
        );
      }
      return fragmentView(fragment);
    }),
  );

  server.registerTool(
    'memory_update',
    {
      title: 'Update a memory',
      description:
        'Changes a fragment’s text, metadata (replaced whole), importance or core flag; the earlier version stays in its history.',
      inputSchema: {
        id: Id,
        text: Text.optional(),
        metadata: Metadata.optional(),
        importance: z.number().min(0).max(1).optional(),
        core: z.boolean().optional(),
      },
      outputSchema: FragmentView.shape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    run('memory_update', 'memory:write', true, async (args, system) => {
      const { id, ...patch } = args;
      if (Object.values(patch).every((v) => v === undefined)) {
        throw invalidInput('arguments', args, 'at least one of text, metadata, importance, core');
      }
      const updated = await system.memory.update(id, {
        ...(patch.text === undefined ? {} : { text: patch.text }),
        ...(patch.metadata === undefined ? {} : { metadata: patch.metadata }),
        ...(patch.importance === undefined ? {} : { importance: patch.importance }),
        ...(patch.core === undefined ? {} : { core: patch.core }),
      });
      return fragmentView(updated, LIST_TEXT_CHARS);
    }),
  );

  server.registerTool(
    'memory_delete',
    {
      title: 'Delete a memory',
      description: 'Deletes a fragment; its history stays readable (memory_history).',
      inputSchema: { id: Id },
      outputSchema: { id: z.string(), deleted: z.literal(true) },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    run('memory_delete', 'memory:write', true, async (args, system) => {
      await system.memory.delete(args.id);
      return { id: args.id, deleted: true };
    }),
  );

  server.registerTool(
    'memory_history',
    {
      title: 'History of a memory',
      description:
        'The recorded versions of a fragment (also after it was deleted), the latest `limit` of them, oldest first.',
      inputSchema: {
        id: Id,
        limit: z.number().int().min(1).max(100).optional().describe('Latest versions (default 20)'),
      },
      outputSchema: {
        id: z.string(),
        total: z.number().int(),
        versions: z.array(ChangeView).max(100),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    run('memory_history', 'memory:read', false, async (args, system) => {
      const changes = await system.memory.history(args.id);
      const limit = args.limit ?? 20;
      return {
        id: args.id,
        total: changes.length,
        versions: changes.slice(-limit).map(changeView),
      };
    }),
  );

  server.registerTool(
    'memory_list',
    {
      title: 'List memories',
      description:
        'Fragments oldest first, a page at a time (`limit`, at most 100; then `cursor` = the nextCursor given), optionally of one namespace and matching a filter; texts are cut to 1000 characters.',
      inputSchema: {
        namespace: Namespace.optional(),
        filter: Filter.optional(),
        limit: z.number().int().min(1).max(100).optional().describe('Page size (default 20)'),
        cursor: z.string().max(1_000).optional(),
      },
      outputSchema: {
        items: z.array(FragmentView).max(100),
        nextCursor: z.string().nullable(),
        total: z.number().int().describe('Fragments that match, on every page'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    run('memory_list', 'memory:read', false, async (args, system) => {
      await system.memory.refresh();
      const after = args.cursor === undefined ? undefined : decodeCursor(args.cursor);
      const listed = await system.memory.list({
        ...(args.namespace === undefined ? {} : { namespace: args.namespace }),
        ...(args.filter === undefined ? {} : { filter: args.filter as never }),
      });
      const all = listed.sort(
        (a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
      const start = after
        ? all.findIndex(
            (f) => f.createdAt > after[0] || (f.createdAt === after[0] && f.id > after[1]),
          )
        : 0;
      const limit = args.limit ?? 20;
      const page = start < 0 ? [] : all.slice(start, start + limit);
      const last = page.at(-1);
      const more = start >= 0 && start + limit < all.length;
      return {
        items: page.map((f) => fragmentView(f, LIST_TEXT_CHARS)),
        nextCursor: more && last ? encodeCursor(last.createdAt, last.id) : null,
        total: all.length,
      };
    }),
  );

  server.registerTool(
    'ask_luna',
    {
      title: 'Ask Luna',
      description:
        'Luna answers a question from the memory, with her personality, citing her sources; the exchange is kept as a conversation (pass conversationId to continue one).',
      inputSchema: {
        question: z.string().min(1).max(100_000),
        conversationId: z.string().min(1).max(200).optional(),
        namespace: Namespace.optional().describe('Search only this namespace'),
      },
      outputSchema: {
        answer: z.string(),
        mode: z.enum(['llm', 'offline']),
        grounded: z.boolean().describe('Whether the memory holds the answer'),
        conversationId: z.string(),
        exchangeId: z.string(),
        sources: z
          .array(
            z.object({
              id: z.string(),
              relevance: z.number(),
              namespace: z.string().nullable(),
              snippet: z.string(),
              line: z.number().int().nullable(),
              source: z.string().nullable().describe('The file it came from, when ingested'),
            }),
          )
          .max(50),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    run('ask_luna', 'chat', false, async (args, system) => {
      const options = await askOptions(system, args);
      if (system.llm) await access.beforeModelCall?.(system);
      const answer = await system.ask(args.question, options);
      return {
        answer: answer.answer,
        mode: answer.mode,
        grounded: answer.grounded,
        conversationId: answer.conversationId,
        exchangeId: answer.id,
        sources: answer.sources.slice(0, 50).map((s) => ({
          id: s.id,
          relevance: s.relevance,
          namespace: s.namespace,
          snippet: s.snippet,
          line: s.line,
          source: typeof s.metadata.source === 'string' ? s.metadata.source : null,
        })),
      };
    }),
  );
}
