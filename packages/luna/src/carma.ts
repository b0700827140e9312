import type { Memory, SearchMode } from '@aios/carma';
import { AiosError, invalidInput } from '@aios/utils';
import type {
  MemoryFragment,
  MemoryProvider,
  MemorySearchOptions,
  ReinforceResult,
} from './memory.js';
import { judgeOverMemory } from './relevance.js';

/** CARMA's longest fragment text (`MAX_TEXT_LENGTH` of @aios/carma). */
const CARMA_MAX_TEXT = 200_000;

export interface CarmaMemoryOptions {
  /** Retrieval mode (config `carma.search.mode`); default `hybrid`. */
  mode?: SearchMode;
  /** Search only this namespace; default: every namespace. */
  namespace?: string;
  /** Namespace new exchanges are remembered in; default `namespace`, else `luna`. */
  rememberNamespace?: string;
  /**
   * Weight of a fragment's importance in its score (CARMA's opt-in importance term), so
   * that reinforced fragments rank higher; default 0.2, 0 turns it off.
   */
  importanceWeight?: number;
  /** Importance added by feedback of rating 1 (a rating r adds `r * step`); default 0.1. */
  reinforceStep?: number;
}

type FlatValue = string | number | boolean | null;

/** CARMA metadata holds scalars and arrays of scalars; anything else is kept as JSON text. */
function flatMetadata(metadata: Record<string, unknown>): Record<string, FlatValue> {
  const out: Record<string, FlatValue> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value === undefined) continue;
    if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    ) {
      out[key] = value;
    } else {
      out[key] = JSON.stringify(value) ?? null;
    }
  }
  return out;
}

/**
 * A `MemoryProvider` over a CARMA memory (`openMemory` of @aios/carma): `search` runs
 * CARMA's search with the configured mode (fragments with CARMA's ids, scores, namespace
 * and metadata, and their relevance on the absolute scale of `judge`; when a remote embedder fails, it falls back to CARMA's lexical search),
 * `reinforce` moves the fragments' importance by `weight * reinforceStep`
 * (fragments deleted or merged away since the answer are skipped), `refresh` is CARMA's
 * (the memory takes in what its database holds now), and `remember` adds the
 * exchange as a fragment with its provenance (`source: 'luna'`, `kind`, `exchangeId`,
 * `conversationId`, `rememberedAt`). The caller owns the memory and closes it.
 */
export function carmaMemory(
  memory: Memory,
  options: CarmaMemoryOptions = {},
): MemoryProvider & { readonly memory: Memory } {
  if (!memory || typeof memory.search !== 'function' || typeof memory.reinforce !== 'function') {
    throw invalidInput('memory', memory, 'a CARMA Memory (openMemory of @aios/carma)');
  }
  const mode = options.mode ?? 'hybrid';
  if (mode !== 'hybrid' && mode !== 'vector' && mode !== 'lexical') {
    throw invalidInput('mode', mode, '"hybrid", "vector" or "lexical"');
  }
  const importanceWeight = options.importanceWeight ?? 0.2;
  if (!Number.isFinite(importanceWeight) || importanceWeight < 0 || importanceWeight > 1) {
    throw invalidInput('importanceWeight', importanceWeight, 'a number from 0 to 1');
  }
  const step = options.reinforceStep ?? 0.1;
  if (!Number.isFinite(step) || step <= 0 || step > 1) {
    throw invalidInput('reinforceStep', step, 'a number in (0, 1]');
  }
  const namespace = options.namespace;
  const rememberNamespace = options.rememberNamespace ?? namespace ?? 'luna';

  return {
    memory,

    async search(query: string, searchOptions: MemorySearchOptions): Promise<MemoryFragment[]> {
      if (typeof query !== 'string') throw invalidInput('query', query, 'a string');
      const k = searchOptions?.k;
      if (!Number.isInteger(k) || k < 1) throw invalidInput('k', k, 'a positive integer');
      if (query.trim() === '' || memory.size === 0) return [];
      const only = searchOptions.namespace ?? namespace;
      const search = (m: SearchMode) =>
        memory.search(query.slice(0, CARMA_MAX_TEXT), {
          k,
          mode: m,
          ...(only === undefined ? {} : { namespace: only }),
          ...(importanceWeight > 0 ? { importance: { weight: importanceWeight } } : {}),
        });
      let results: Awaited<ReturnType<typeof search>>;
      try {
        results = await search(mode);
      } catch (error) {
        // A remote embedder that is down (often with the LLM server it runs on) must not
        // take retrieval with it: BM25 alone still finds the fragments for the offline answer.
        const code = error instanceof AiosError ? error.code : undefined;
        if (mode === 'lexical' || (code !== 'EMBEDDER_FAILED' && code !== 'EMBEDDER_TIMEOUT')) {
          throw error;
        }
        results = await search('lexical');
      }
      const fragments: MemoryFragment[] = results.map((r) => ({
        id: r.id,
        text: r.fragment.text,
        score: r.score,
        namespace: r.fragment.namespace,
        metadata: { ...r.fragment.metadata },
      }));
      if (fragments.length === 0) return fragments;
      // Each fragment's relevance on the absolute scale, with IDF over the whole memory.
      const judged = (await judgeOverMemory(query, fragments, (words) => memory.termIdf(words)))
        .fragments;
      return fragments.map((f, i) => ({ ...f, relevance: judged[i]?.relevance ?? 0 }));
    },

    async reinforce(ids: readonly string[], weight: number): Promise<ReinforceResult> {
      if (!Array.isArray(ids)) throw invalidInput('ids', ids, 'an array of fragment ids');
      if (!Number.isFinite(weight)) throw invalidInput('weight', weight, 'a finite number');
      const amount = Math.max(-1, Math.min(1, weight * step));
      const before = new Map<string, number>();
      for (const id of ids) {
        const f = typeof id === 'string' ? await memory.get(id) : undefined;
        if (f) before.set(id, f.importance);
      }
      const applied: Record<string, number> = {};
      if (before.size === 0 || amount === 0) return { applied };
      // CARMA keeps importance in [0, 1]: report what each fragment really received.
      for (const f of await memory.reinforce([...before.keys()], amount)) {
        const delta = f.importance - (before.get(f.id) as number);
        if (delta !== 0) applied[f.id] = delta / step;
      }
      return { applied };
    },

    refresh: () => memory.refresh(),
    exclusive: (fn) => memory.exclusive(fn),

    termIdf: (words: readonly string[]) => memory.termIdf(words),

    async get(id: string): Promise<MemoryFragment | undefined> {
      const f = await memory.get(id);
      return (
        f && {
          id: f.id,
          text: f.text,
          score: 0,
          namespace: f.namespace,
          metadata: { ...f.metadata },
        }
      );
    },

    async update(id, patch) {
      await memory.update(id, {
        ...(patch.text === undefined ? {} : { text: patch.text.slice(0, CARMA_MAX_TEXT) }),
        ...(patch.metadata === undefined ? {} : { metadata: flatMetadata(patch.metadata) }),
      });
    },

    forget: (id: string) => memory.delete(id),

    async remember(
      text: string,
      metadata: Record<string, unknown> = {},
      rememberOptions: { namespace?: string } = {},
    ): Promise<string> {
      if (typeof text !== 'string' || text.trim() === '') {
        throw invalidInput('text', text, 'a non-empty string');
      }
      const truncated = text.length > CARMA_MAX_TEXT;
      const { fragment } = await memory.add({
        text: truncated ? text.slice(0, CARMA_MAX_TEXT) : text,
        namespace: rememberOptions.namespace ?? rememberNamespace,
        metadata: {
          source: 'luna',
          ...flatMetadata(metadata),
          rememberedAt: new Date().toISOString(),
          ...(truncated ? { truncated: true } : {}),
        },
      });
      return fragment.id;
    },
  };
}
