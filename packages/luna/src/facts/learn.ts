/**
 * Learning durable facts from a conversation. After the model answered a message that
 * states something ("Maya's check-up moved to 10 June"), the model is asked once more, with
 * the memories most related to the exchange, which facts to add, which of Luna's facts a
 * newer one replaces, and which are no longer true. Luna changes only facts she learnt
 * herself: a note of the user is never edited (a fact that contradicts it is added, and
 * the contradiction is shown by `findConflicts`). Each change is stored in the memory's
 * history with its conversation and exchange, and in the change log, so it can be undone.
 */
import { randomUUID } from 'node:crypto';
import { AiosError } from '@aios/utils';
import { type Conflict, findConflicts } from '../conflicts.js';
import { LunaErrorCode } from '../errors.js';
import type { ChatClient } from '../llm/client.js';
import type { MemoryFragment, MemoryProvider } from '../memory.js';
import type { LearnedFacts, MemoryChange, MemoryChangeLog } from './types.js';

/** Memories shown to the model with an exchange. */
const RELATED = 8;
/** Changes taken from one exchange at most. */
const MAX_CHANGES = 10;
/** Longest fact kept, in characters. */
const MAX_FACT_CHARS = 1000;

/** The metadata `kind` of a fact Luna learnt. */
export const FACT_KIND = 'fact';

/** What learning needs of the memory: the optional methods a `MemoryProvider` may have. */
export type LearningMemory = MemoryProvider &
  Required<Pick<MemoryProvider, 'remember' | 'update' | 'forget' | 'get'>>;

/** Whether the memory can learn facts (it has remember, update, forget and get). */
export function canLearn(memory: MemoryProvider): memory is LearningMemory {
  return (
    typeof memory.remember === 'function' &&
    typeof memory.update === 'function' &&
    typeof memory.forget === 'function' &&
    typeof memory.get === 'function'
  );
}

/** Words that open a question, typed with or without its question mark. */
const ASKS =
  /^(?:(?:and|so|but|then|ok|okay|also)\s+)?(?:who|whom|whose|what|when|where|which|why|how|is|are|was|were|do|does|did|can|could|will|would|should|shall|may|might|have|has|had)\b/i;

/**
 * True when a message states something (a sentence of three words or more that is not a
 * question: it ends with no question mark and opens with no question word), not only asks.
 */
export function statesSomething(message: string): boolean {
  return message
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .some(
      (s) => !s.endsWith('?') && !ASKS.test(s) && (s.match(/[\p{L}\p{N}]+/gu) ?? []).length >= 3,
    );
}

const isFact = (f: MemoryFragment) => f.metadata?.kind === FACT_KIND;

/** A proposal of the model, checked. */
interface Proposal {
  op: 'add' | 'update' | 'retire';
  target?: MemoryFragment;
  text?: string;
  reason?: string;
}

export const EXTRACTION_PROMPT = [
  'You keep the long-term memory of a personal assistant.',
  'From the exchange below, find durable facts the USER stated about themselves, their',
  'household, people, plans, dates, preferences or belongings (not questions, not guesses,',
  'not what the assistant said unless the user confirmed it). Compare them with the memories listed: each has a label (M1, M2...) and says whether it is a fact you learnt (you may change it) or a note of the user (never changed).',
  'Reply with JSON only, no prose: {"changes": [...]} where each change is one of',
  '{"op": "add", "text": "<one self-contained sentence naming who it is about>"},',
  '{"op": "update", "id": "M<n>", "text": "<the new sentence>", "reason": "<why>"} for a learnt fact a newer one replaces,',
  '{"op": "retire", "id": "M<n>", "reason": "<why>"} for a learnt fact that is no longer true.',
  'When a new fact contradicts a note, add the new fact. When nothing durable was stated, reply {"changes": []}.',
].join('\n');

function relatedBlock(related: readonly MemoryFragment[]): string {
  if (related.length === 0) return 'Memories: (none related)';
  const lines = related.map(
    (f, i) =>
      `M${i + 1} (${isFact(f) ? 'learnt fact' : 'note'}): ${f.text.replace(/\s+/g, ' ').slice(0, 500)}`,
  );
  return `Memories:\n${lines.join('\n')}`;
}

/** The JSON object in a reply (models wrap it in fences or prose now and then). */
function jsonIn(content: string): unknown {
  const start = content.indexOf('{');
  const end = content.lastIndexOf('}');
  if (start === -1 || end <= start) {
    throw new AiosError(LunaErrorCode.LLM_BAD_RESPONSE, 'the model gave no JSON object of changes');
  }
  try {
    return JSON.parse(content.slice(start, end + 1));
  } catch {
    throw new AiosError(
      LunaErrorCode.LLM_BAD_RESPONSE,
      'the model gave changes that are not valid JSON',
    );
  }
}

/** The model's changes, checked against the memories it was shown; the rest is dropped. */
export function parseChanges(content: string, related: readonly MemoryFragment[]): Proposal[] {
  const parsed = jsonIn(content) as { changes?: unknown };
  if (!Array.isArray(parsed?.changes)) {
    throw new AiosError(LunaErrorCode.LLM_BAD_RESPONSE, 'the model gave no "changes" list');
  }
  const out: Proposal[] = [];
  for (const raw of parsed.changes.slice(0, MAX_CHANGES) as Array<Record<string, unknown>>) {
    if (typeof raw !== 'object' || raw === null) continue;
    const op = raw.op;
    const text =
      typeof raw.text === 'string' && raw.text.trim() !== ''
        ? raw.text.trim().slice(0, MAX_FACT_CHARS)
        : undefined;
    const reason = typeof raw.reason === 'string' ? raw.reason.trim().slice(0, 500) : undefined;
    const label = typeof raw.id === 'string' ? /^M(\d+)$/i.exec(raw.id.trim()) : null;
    const target = label ? related[Number(label[1]) - 1] : undefined;
    if (op === 'add' && text) out.push({ op, text });
    else if (op === 'update' && text && target) {
      // A note is never edited: the newer fact goes in beside it (a conflict shows both).
      out.push(
        isFact(target) ? { op, target, text, ...(reason ? { reason } : {}) } : { op: 'add', text },
      );
    } else if (op === 'retire' && target && isFact(target)) {
      out.push({ op, target, ...(reason ? { reason } : {}) });
    }
  }
  return out;
}

export interface LearnInput {
  llm: ChatClient;
  memory: LearningMemory;
  log: MemoryChangeLog;
  /** Runs its function as one transaction of the store, when it has them. */
  atomically: <T>(fn: () => Promise<T>) => Promise<T>;
  question: string;
  answer: string;
  conversationId: string;
  exchangeId: string;
  signal?: AbortSignal;
}

/** Asks the model what the exchange teaches and applies it (see the module comment). */
export async function learnFromExchange(input: LearnInput): Promise<LearnedFacts> {
  const { llm, memory, log, question, answer, conversationId, exchangeId } = input;
  // Remembered exchanges quote other memories; they are not facts to compare with.
  const related = (await memory.search(`${question}\n${answer}`, { k: RELATED + 4 }))
    .filter((f) => f.metadata?.kind !== 'exchange')
    .slice(0, RELATED);
  const reply = await llm.chat({
    messages: [
      { role: 'system', content: EXTRACTION_PROMPT },
      {
        role: 'user',
        content: `${relatedBlock(related)}\n\nExchange:\nUSER: ${question}\nASSISTANT: ${answer}`,
      },
    ],
    temperature: 0,
    maxTokens: 600,
    ...(input.signal ? { signal: input.signal } : {}),
  });
  const proposals = parseChanges(reply.content, related);
  const at = new Date().toISOString();
  const provenance = { conversationId, exchangeId };
  const changes: MemoryChange[] = [];
  await input.atomically(async () => {
    for (const p of proposals) {
      const base = { id: randomUUID(), ...provenance, at, undone: false };
      if (p.op === 'add' && p.text) {
        const fragmentId = await memory.remember(p.text, {
          kind: FACT_KIND,
          ...provenance,
          learnedAt: at,
        });
        changes.push({ ...base, op: 'add', fragmentId, after: p.text });
      } else if (p.target && p.op === 'update' && p.text) {
        const before = p.target.metadata ?? {};
        await memory.update(p.target.id, {
          text: p.text,
          metadata: { ...before, ...provenance, kind: FACT_KIND, learnedAt: at },
        });
        changes.push({
          ...base,
          op: 'update',
          fragmentId: p.target.id,
          before: p.target.text,
          beforeMetadata: before,
          after: p.text,
          ...(p.reason ? { reason: p.reason } : {}),
        });
      } else if (p.target && p.op === 'retire') {
        const before = p.target.metadata ?? {};
        // The retirement and its source go into the fact's history before it is deleted.
        await memory.update(p.target.id, {
          metadata: { ...before, retiredBy: exchangeId, retiredIn: conversationId, retiredAt: at },
        });
        await memory.forget(p.target.id);
        changes.push({
          ...base,
          op: 'retire',
          fragmentId: p.target.id,
          before: p.target.text,
          beforeMetadata: before,
          ...(p.reason ? { reason: p.reason } : {}),
        });
      }
    }
    if (changes.length > 0) await log.recordMemoryChanges(changes);
  });
  return { changes, conflicts: await conflictsOf(memory, changes, related) };
}

/** Contradictions between what changed and the memories around it. */
async function conflictsOf(
  memory: LearningMemory,
  changes: readonly MemoryChange[],
  related: readonly MemoryFragment[],
): Promise<Conflict[]> {
  const touched = changes.filter((c) => c.op !== 'retire');
  if (touched.length === 0) return [];
  const pool = new Map(related.map((f) => [f.id, f]));
  for (const c of touched) {
    const f = await memory.get(c.fragmentId);
    if (f) pool.set(f.id, f);
    // What else memory holds on the new fact's subject.
    for (const near of await memory.search(c.after ?? '', { k: RELATED })) {
      if (!pool.has(near.id)) pool.set(near.id, near);
    }
  }
  for (const c of changes) if (c.op === 'retire') pool.delete(c.fragmentId);
  return findConflicts([...pool.values()], new Set(touched.map((c) => c.fragmentId)));
}

/**
 * Where the fragment a change made lives now: a retire undone later brought it back under
 * a new id (`restoredAs`).
 */
function currentId(all: readonly MemoryChange[], change: MemoryChange): string {
  let id = change.fragmentId;
  for (const later of all.slice(all.indexOf(change) + 1)) {
    if (later.op === 'retire' && later.fragmentId === id && later.undone && later.restoredAs) {
      id = later.restoredAs;
    }
  }
  return id;
}

/**
 * Takes a change back: an added fact is deleted, an updated one gets its text and metadata
 * back, a retired one comes back (as a new fragment with `restoredFrom`). Without an id,
 * the latest change still in effect.
 */
export async function undoMemoryChange(
  memory: LearningMemory,
  log: MemoryChangeLog,
  atomically: <T>(fn: () => Promise<T>) => Promise<T>,
  id?: string,
): Promise<MemoryChange> {
  const all = await log.listMemoryChanges();
  const change =
    id === undefined ? all.filter((c) => !c.undone).at(-1) : all.find((c) => c.id === id);
  if (!change) {
    throw id === undefined
      ? new AiosError(LunaErrorCode.NOTHING_TO_UNDO, 'there is no change of memory to undo')
      : new AiosError(LunaErrorCode.NOT_FOUND, `no change of memory with id ${id}`, {
          details: { changeId: id },
        });
  }
  if (change.undone) {
    throw new AiosError(LunaErrorCode.ALREADY_UNDONE, `change ${change.id} was already undone`, {
      details: { changeId: change.id, undoneAt: change.undoneAt },
    });
  }
  const at = new Date().toISOString();
  const fragmentId = currentId(all, change);
  let restoredAs: string | undefined;
  await atomically(async () => {
    if (change.op === 'add') {
      if (await memory.get(fragmentId)) await memory.forget(fragmentId);
    } else if (change.op === 'update') {
      if (!(await memory.get(fragmentId))) {
        throw new AiosError(
          LunaErrorCode.NOT_FOUND,
          `the fact that change ${change.id} updated is no longer in memory (retired or deleted since); undo that first`,
          { details: { changeId: change.id, fragmentId } },
        );
      }
      await memory.update(fragmentId, {
        text: change.before ?? '',
        metadata: change.beforeMetadata ?? {},
      });
    } else {
      restoredAs = await memory.remember(change.before ?? '', {
        ...change.beforeMetadata,
        restoredFrom: change.fragmentId,
        restoredAt: at,
      });
    }
    await log.markMemoryChangeUndone(change.id, at, restoredAs);
  });
  return { ...change, undone: true, undoneAt: at, ...(restoredAs ? { restoredAs } : {}) };
}

/** The change log a `ConversationStore` keeps, when it has the three methods of one. */
export function changeLogOf(store: {
  recordMemoryChanges?: MemoryChangeLog['recordMemoryChanges'];
  listMemoryChanges?: MemoryChangeLog['listMemoryChanges'];
  markMemoryChangeUndone?: MemoryChangeLog['markMemoryChangeUndone'];
}): MemoryChangeLog | undefined {
  const { recordMemoryChanges, listMemoryChanges, markMemoryChangeUndone } = store;
  if (!recordMemoryChanges || !listMemoryChanges || !markMemoryChangeUndone) return undefined;
  return {
    recordMemoryChanges: (changes) => recordMemoryChanges.call(store, changes),
    listMemoryChanges: () => listMemoryChanges.call(store),
    markMemoryChangeUndone: (id, at, restoredAs) =>
      markMemoryChangeUndone.call(store, id, at, restoredAs),
  };
}
