/** `aios conversations list|show|delete`: the conversations Luna keeps in the data store. */
import { createInterface } from 'node:readline/promises';
import type { Conversation, Message } from '@aios/data';
import { conversationTitle, type StoredSource, storedAnswer } from '@aios/luna';
import { AiosError } from '@aios/utils';
import type { Command } from 'commander';
import type { Aios } from '../aios.js';
import { type SourceView, sourceLine } from './answers.js';
import { pc } from './colors.js';
import { withAios, withWritableAios } from './open-system.js';
import { integerIn, printJson } from './shared.js';
import { storedSourceViews } from './stored-sources.js';

const PAGE = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How an id is shown in lists: a UUID by its first 8 characters, any other id whole. */
export const shortId = (id: string): string => (UUID.test(id) ? id.slice(0, 8) : id);

/** Every conversation, most recently updated first. */
async function allConversations(aios: Aios): Promise<Conversation[]> {
  const out: Conversation[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await aios.data.conversations.list({ limit: PAGE, offset });
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}

/**
 * The conversation `--continue` and `--resume` go on with, as Luna picks it: the latest
 * one of hers (a message moves its conversation to the front), else the latest of all.
 */
export async function latestConversation(aios: Aios): Promise<string | undefined> {
  const recent = await aios.data.conversations.list({ limit: 100 });
  return (recent.find((c) => c.metadata.agent === 'luna') ?? recent[0])?.id;
}

/** A conversation id from an id or a unique prefix of one. */
export async function resolveConversation(aios: Aios, given: string): Promise<string> {
  const wanted = given.trim();
  if (wanted === '') {
    throw new AiosError('INVALID_INPUT', 'conversation: expected an id or a unique prefix of one');
  }
  if (await aios.data.conversations.get(wanted)) return wanted;
  const matches = (await allConversations(aios)).filter((c) => c.id.startsWith(wanted));
  if (matches.length === 1) return (matches[0] as Conversation).id;
  if (matches.length === 0) {
    throw new AiosError(
      'CONVERSATION_NOT_FOUND',
      `no conversation ${JSON.stringify(wanted)} (\`aios conversations list\` shows them)`,
      { details: { conversation: wanted } },
    );
  }
  throw new AiosError(
    'CONVERSATION_AMBIGUOUS',
    `${JSON.stringify(wanted)} starts ${matches.length} conversations (${matches
      .slice(0, 5)
      .map((c) => shortId(c.id))
      .join(', ')}); give more of the id`,
    { details: { conversation: wanted, matches: matches.map((c) => c.id) } },
  );
}

/** A conversation's messages, oldest first. */
export async function messagesOf(aios: Aios, id: string): Promise<Message[]> {
  const out: Message[] = [];
  for (let afterId = 0; ; ) {
    const page = await aios.data.messages.list(id, { afterId, limit: PAGE });
    out.push(...page);
    const last = page[page.length - 1];
    if (!last || page.length < PAGE) return out;
    afterId = last.id;
  }
}

/** One question and its answer, as shown. */
export interface Turn {
  question: string;
  answer: string | null;
  /** The answer's id (for `aios feedback`). */
  answerId: string | null;
  mode: 'llm' | 'offline' | null;
  model: string | null;
  /** The answer's sources, with what it showed of each. */
  sources: StoredSource[];
  at: string;
}

/** Its title; one stored before Luna titled conversations is titled by its first question, as Luna would. */
const titleOf = (c: Conversation, turns: readonly Turn[]): string | null =>
  c.title ?? (conversationTitle(turns[0]?.question ?? '') || null);

const iso = (ms: number) => new Date(ms).toISOString();
const when = (ms: number) => iso(ms).replace('T', ' ').slice(0, 16);

/** The turns of a conversation: each question with the answer that follows it. */
export function turnsOf(messages: readonly Message[]): Turn[] {
  const turns: Turn[] = [];
  for (const m of messages) {
    if (m.role === 'user') {
      turns.push({
        question: m.content,
        answer: null,
        answerId: null,
        mode: null,
        model: null,
        sources: [],
        at: iso(m.createdAt),
      });
    } else if (m.role === 'assistant') {
      const turn = turns[turns.length - 1];
      const stored = storedAnswer(m);
      const answer = {
        answer: m.content,
        answerId: typeof m.metadata.exchangeId === 'string' ? m.metadata.exchangeId : null,
        mode: stored.mode,
        model: m.model,
        sources: stored.sources ?? [],
      };
      if (turn && turn.answer === null) Object.assign(turn, answer);
      else turns.push({ question: '', ...answer, at: iso(m.createdAt) });
    }
  }
  return turns;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * An answer's sources as `aios ask` listed them: none of them holding the answer (as
 * stored), they came closest. Answers stored before that was kept are taken as grounded.
 */
function printSources(views: SourceView[], stored: readonly StoredSource[]): void {
  if (views.length === 0) return;
  const closest = stored.length > 0 && stored.every((s) => s.grounded === false);
  console.log(pc.bold(closest ? 'Closest (not an answer):' : 'Sources:'));
  views.forEach((s, i) => {
    console.log(sourceLine(s, i + 1));
  });
}

/** Asks on the terminal; anything but y/yes is a no. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** The exchanges Luna remembered from a conversation (not facts learnt from it). */
async function rememberedExchanges(aios: Aios, conversationId: string): Promise<string[]> {
  const fragments = await aios.memory.list({ filter: { conversationId, kind: 'exchange' } });
  return fragments.map((fragment) => fragment.id);
}

export function registerConversations(program: Command): void {
  const conversations = program
    .command('conversations')
    .description(
      'the conversations with Luna: list them, show one, delete them (`aios ask --continue`, `aios chat --resume` go on with one)',
    );

  conversations
    .command('list')
    .description('the conversations, the latest first, each with its first question')
    .option('-n, --limit <n>', 'at most this many', integerIn(1, 100_000), 20)
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { limit: number; json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        const total = await aios.data.conversations.count();
        const listed = await aios.data.conversations.list({ limit: options.limit });
        const rows = [];
        for (const c of listed) {
          const turns = turnsOf(await messagesOf(aios, c.id));
          rows.push({
            id: c.id,
            title: titleOf(c, turns),
            turns: turns.length,
            createdAt: iso(c.createdAt),
            updatedAt: iso(c.updatedAt),
          });
        }
        if (options.json) return printJson({ total, conversations: rows });
        if (rows.length === 0) {
          console.log(pc.dim('no conversations yet (`aios ask` or `aios chat` starts one)'));
          return;
        }
        for (const r of rows) {
          console.log(
            `${pc.cyan(shortId(r.id))}  ${pc.dim(when(Date.parse(r.updatedAt)))}  ${plural(r.turns, 'turn').padEnd(9)}  ${conversationTitle(r.title ?? '')}`,
          );
        }
        if (total > rows.length) {
          console.log(pc.dim(`(${rows.length} of ${total}; --limit shows more)`));
        }
      });
    });

  conversations
    .command('show')
    .description('one conversation, turn by turn, with the id of each answer')
    .argument('<id>', 'a conversation id or a unique prefix of one')
    .option('--json', 'print machine-readable JSON')
    .action(async (given: string, options: { json?: boolean }, command: Command) => {
      await withAios(command, async (aios) => {
        const id = await resolveConversation(aios, given);
        const conversation = (await aios.data.conversations.get(id)) as Conversation;
        const turns = turnsOf(await messagesOf(aios, id));
        if (options.json) {
          return printJson({
            id,
            title: titleOf(conversation, turns),
            createdAt: iso(conversation.createdAt),
            updatedAt: iso(conversation.updatedAt),
            turns,
          });
        }
        console.log(
          `${pc.bold('conversation')} ${id}  ${pc.dim(`${plural(turns.length, 'turn')}, started ${when(conversation.createdAt)}`)}`,
        );
        for (const t of turns) {
          console.log('');
          if (t.question) console.log(`${pc.cyan('you>')} ${t.question}`);
          if (t.answer !== null) {
            const label = t.mode === 'offline' ? `${pc.yellow('[offline]')} ` : '';
            console.log(
              `${pc.magenta('luna>')} ${label}${t.answer.replace(/^\[offline\]\s*/, '')}`,
            );
            const about = [t.answerId && `answer ${t.answerId}`, t.model].filter(Boolean);
            if (about.length > 0) console.log(pc.dim(`      (${about.join(', ')})`));
            printSources(await storedSourceViews(aios.memory, t.sources), t.sources);
          }
        }
        console.log('');
        console.log(
          pc.dim(
            `(go on with \`aios ask --conversation ${shortId(id)} <question>\` or \`aios chat --resume ${shortId(id)}\`)`,
          ),
        );
      });
    });

  conversations
    .command('delete')
    .description(
      'delete conversations with their messages, and the exchanges Luna remembered from them (facts learnt stay)',
    )
    .argument('<id...>', 'conversation ids or unique prefixes')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--keep-memories', 'keep the exchanges Luna remembered from them in memory')
    .option('--json', 'print machine-readable JSON')
    .action(
      async (
        given: string[],
        options: { yes?: boolean; keepMemories?: boolean; json?: boolean },
        command: Command,
      ) => {
        await withWritableAios(command, async (aios) => {
          const ids = [
            ...new Set(await Promise.all(given.map((g) => resolveConversation(aios, g)))),
          ];
          const memories = options.keepMemories
            ? []
            : (await Promise.all(ids.map((id) => rememberedExchanges(aios, id)))).flat();
          const summary = `${plural(ids.length, 'conversation')} (${ids.map(shortId).join(', ')})${memories.length > 0 ? ` and ${plural(memories.length, 'remembered exchange')}` : ''}`;
          if (!options.yes) {
            const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
            if (!interactive || options.json) {
              throw new AiosError(
                'CONFIRMATION_REQUIRED',
                `this would delete ${summary}; give --yes to do it`,
                { details: { conversations: ids, memories: memories.length } },
              );
            }
            if (!(await confirm(`Delete ${summary}? [y/N] `))) {
              console.log('nothing deleted');
              return;
            }
          }
          // The memories first: a conversation is never gone while what came from it stays.
          for (const fragment of memories) await aios.memory.delete(fragment);
          let deleted = 0;
          for (const id of ids) if (await aios.data.conversations.delete(id)) deleted += 1;
          if (options.json) {
            return printJson({ deleted: ids, memoriesDeleted: memories.length });
          }
          console.log(
            `deleted ${plural(deleted, 'conversation')}${memories.length > 0 ? ` and ${plural(memories.length, 'remembered exchange')}` : ''}`,
          );
        });
      },
    );
}
