/**
 * Erasure of one namespace of a tenant, with its report: what was removed, and where the
 * erased data still is (backup snapshots taken while it existed, conversations whose
 * answers cite it), with how to remove that too.
 */
import type { Aios } from '@aios/core';
import type { DataStore } from '@aios/data';

export interface ErasureReport {
  namespace: string;
  erasedAt: string;
  removed: {
    fragments: number;
    vectors: number;
    historyRows: number;
    sources: number;
    sourcePieces: number;
  };
  database: { compacted: boolean; walCheckpointed: boolean };
  conversations: { citing: string[]; deleted: boolean };
  backups: {
    snapshots: Array<{ id: string; time: string }>;
    /** The command that forgets them (and frees their data), or null when none holds it. */
    command: string | null;
  };
}

/** Single-quoted for a POSIX shell. */
const quoted = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** Whether `value` holds one of `ids` as a string anywhere inside. */
function mentions(value: unknown, ids: ReadonlySet<string>): boolean {
  if (typeof value === 'string') return ids.has(value);
  if (Array.isArray(value)) return value.some((v) => mentions(v, ids));
  if (value && typeof value === 'object') return Object.values(value).some((v) => mentions(v, ids));
  return false;
}

/** Conversations with a message whose metadata names one of `ids` (an answer's sources). */
async function conversationsCiting(data: DataStore, ids: ReadonlySet<string>): Promise<string[]> {
  if (ids.size === 0) return [];
  const out: string[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await data.conversations.list({ limit: 500, offset });
    for (const c of page) {
      for (let after = 0; ; ) {
        const batch = await data.messages.list(c.id, { afterId: after, limit: 1000 });
        if (batch.some((m) => mentions(m.metadata, ids))) {
          out.push(c.id);
          break;
        }
        const last = batch.at(-1);
        if (!last || batch.length < 1000) break;
        after = last.id;
      }
    }
    if (page.length < 500) return out;
  }
}

/**
 * Erases `namespace` of `system`'s tenant: CARMA erases its fragments, vectors, index
 * entries, history and source records (and rewrites its index file), the conversations
 * citing them go too when asked, then the database is compacted so that no byte of them
 * stays in its file or log. Snapshots taken since the oldest erased data was written still
 * hold it: the report lists them with the command that forgets them.
 */
export async function eraseNamespace(
  system: Aios,
  namespace: string,
  options: { deleteCitingConversations: boolean },
): Promise<ErasureReport> {
  const erasedAt = new Date().toISOString();
  const erased = await system.memory.eraseNamespace(namespace);
  const citing = await conversationsCiting(system.data, new Set(erased.ids));
  if (options.deleteCitingConversations) {
    for (const id of citing) await system.data.conversations.delete(id);
  }
  const compacted = await system.data.compact();
  const snapshots: Array<{ id: string; time: string }> = [];
  if (erased.since !== null && system.backup.exists()) {
    for (const s of (await system.backup.list()).snapshots) {
      if (Date.parse(s.time) >= erased.since) snapshots.push({ id: s.id, time: s.time });
    }
  }
  return {
    namespace,
    erasedAt,
    removed: {
      fragments: erased.fragments,
      vectors: erased.vectors,
      historyRows: erased.history,
      sources: erased.sources,
      sourcePieces: erased.sourcePieces,
    },
    database: { compacted: true, walCheckpointed: compacted.checkpointed },
    conversations: { citing, deleted: options.deleteCitingConversations },
    backups: {
      snapshots,
      command:
        snapshots.length === 0
          ? null
          : `aios backup --repo ${quoted(system.backup.path)} forget ${snapshots.map((s) => s.id).join(' ')} --prune`,
    },
  };
}
