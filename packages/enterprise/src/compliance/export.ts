/**
 * The export of everything a tenant holds, as one JSON document written piece by piece:
 * memories with their history (deleted ones too, as long as their history is kept),
 * conversations with their messages, feedback, personality versions, the files ingested,
 * and the audit entries about the tenant.
 */
import type { Aios } from '@aios/core';
import type { DataStore } from '@aios/data';
import { isAiosError } from '@aios/utils';
import { auditView } from '../audit/view.js';
import { isoOrNull } from '../http/time.js';

export const EXPORT_FORMAT = 'aios-tenant-export';
export const EXPORT_VERSION = 1;
/** The personality Luna keeps (its versions are the tenant's). */
const PERSONALITY = 'luna';
const PAGE = 500;

/** A fragment's history, without failing on one that has none left to show. */
async function historyOf(system: Aios, id: string) {
  try {
    return await system.memory.history(id);
  } catch (error) {
    if (isAiosError(error, 'FRAGMENT_NOT_FOUND')) return [];
    throw error;
  }
}

/** `[` + the items as JSON, comma-separated + `]`, one item at a time. */
async function* array<T>(items: AsyncIterable<T> | Iterable<T>): AsyncGenerator<string> {
  yield '[';
  let first = true;
  for await (const item of items) {
    yield `${first ? '' : ','}\n${JSON.stringify(item)}`;
    first = false;
  }
  yield ']';
}

async function* memories(system: Aios) {
  for (const f of await system.memory.list()) {
    yield {
      id: f.id,
      namespace: f.namespace,
      text: f.text,
      metadata: f.metadata,
      importance: f.importance,
      core: f.core,
      createdAt: isoOrNull(f.createdAt),
      updatedAt: isoOrNull(f.updatedAt),
      accessedAt: isoOrNull(f.accessedAt),
      accessCount: f.accessCount,
      version: f.version,
      mergedFrom: f.mergedFrom,
      links: f.links,
      history: await historyOf(system, f.id),
    };
  }
}

/** Fragments that are gone but whose history is still kept. */
async function* deletedMemories(system: Aios) {
  const { ids } = await system.data.fragments.changedSince(0);
  for (const id of ids) {
    if (await system.memory.get(id)) continue;
    const history = await historyOf(system, id);
    if (history.length > 0) yield { id, history };
  }
}

async function* conversations(data: DataStore) {
  for (let offset = 0; ; offset += PAGE) {
    const page = await data.conversations.list({ limit: PAGE, offset });
    for (const c of page) {
      const messages = [];
      for (let after = 0; ; ) {
        const batch = await data.messages.list(c.id, { afterId: after, limit: 1000 });
        for (const m of batch) {
          messages.push({
            id: m.id,
            role: m.role,
            content: m.content,
            model: m.model,
            promptTokens: m.promptTokens,
            completionTokens: m.completionTokens,
            metadata: m.metadata,
            createdAt: isoOrNull(m.createdAt),
          });
        }
        const last = batch.at(-1);
        if (!last || batch.length < 1000) break;
        after = last.id;
      }
      yield {
        id: c.id,
        title: c.title,
        metadata: c.metadata,
        createdAt: isoOrNull(c.createdAt),
        updatedAt: isoOrNull(c.updatedAt),
        messages,
      };
    }
    if (page.length < PAGE) return;
  }
}

async function* auditEntries(control: DataStore, tenant: string) {
  for (let after = 0; ; ) {
    const page = await control.audit.list({ tenantId: tenant, afterSeq: after, limit: 1000 });
    for (const e of page) {
      yield auditView(e);
    }
    const last = page.at(-1);
    if (!last || page.length < 1000) return;
    after = last.seq;
  }
}

/**
 * The export of tenant `tenant` (whose system is `system`; the audit log is in `control`),
 * as JSON text in pieces. Other processes' writes are taken in first.
 */
export async function* exportTenant(
  system: Aios,
  control: DataStore,
  tenant: string,
): AsyncGenerator<string> {
  await system.memory.refresh();
  const data = system.data;
  const head = {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    tenant,
    exportedAt: new Date().toISOString(),
  };
  yield JSON.stringify(head).slice(0, -1);
  yield ',"memories":';
  yield* array(memories(system));
  yield ',"deletedMemories":';
  yield* array(deletedMemories(system));
  yield ',"conversations":';
  yield* array(conversations(data));
  yield ',"feedback":';
  const feedback = await data.feedback.list({ limit: 1_000_000 });
  yield* array(feedback.reverse().map((f) => ({ ...f, createdAt: isoOrNull(f.createdAt) })));
  yield ',"personality":';
  const versions = await data.personality.history(PERSONALITY, { limit: 1_000_000 });
  yield* array(versions.reverse().map((v) => ({ ...v, createdAt: isoOrNull(v.createdAt) })));
  yield ',"sources":';
  const sources = await data.sources.list();
  yield* array(
    sources.map((s) => ({
      ...s,
      modifiedAt: isoOrNull(s.modifiedAt),
      ingestedAt: isoOrNull(s.ingestedAt),
    })),
  );
  yield ',"audit":';
  yield* array(auditEntries(control, tenant));
  yield '}\n';
}
