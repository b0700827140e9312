import { type ChatServer, type RecordedRequest, startChatServer } from '@aios/luna/testing';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLineError, tempHomes } from './testing/cli.js';
import { runCliAsync } from './testing/run.js';

// Conversations end to end, against a scripted language model on loopback that records
// what it is sent: `ask` starts one, `--continue` and `--conversation` go on with one (its
// earlier turns in the prompt), `aios conversations` lists, shows and deletes them, and
// `--model`, `--persona` and `--system` change one call.

const tempHome = tempHomes('aios-conversations-');
const SLOW = { timeout: 240_000 };

let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer();
});
afterAll(() => server.close());

type Message = { role: string; content: string };
const messagesOf = (r: RecordedRequest): Message[] => r.body.messages ?? [];

/** The chat request that asked `question` (the last message), the latest one if several. */
function requestFor(question: string): RecordedRequest {
  const found = server.requests
    .filter((r) => r.url === '/v1/chat/completions')
    .filter((r) => messagesOf(r).at(-1)?.content === question)
    .at(-1);
  if (!found) throw new Error(`the model was not asked ${JSON.stringify(question)}`);
  return found;
}

/** The turns of the prompt after the system message: [role, content] pairs. */
const turns = (r: RecordedRequest) =>
  messagesOf(r)
    .slice(1)
    .map((m) => [m.role, m.content]);

describe.each(testImplementations())('conversations (AIOS_NATIVE=%s)', (impl) => {
  const env = { AIOS_NATIVE: impl };
  let home: string;
  const aios = (...args: string[]) => runCliAsync(home, args, env);
  const json = async (...args: string[]) => {
    const r = await aios(...args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };
  let first: { id: string; conversationId: string; answer: string; mode?: string };
  let second: { id: string; conversationId: string; answer: string };
  let other: { id: string; conversationId: string };

  beforeAll(async () => {
    home = tempHome();
    expect((await aios('config', 'set', 'luna.llm.baseUrl', server.baseUrl)).code).toBe(0);
    expect((await aios('config', 'set', 'luna.llm.model', 'test-model')).code).toBe(0);
  }, 60_000);

  it(
    'a question starts a conversation; --continue and --conversation go on with its turns',
    SLOW,
    async () => {
      // Unquoted words are one question.
      first = await json('ask', 'who', 'is', 'allergic', 'to', 'cats', '--json');
      expect(first.mode).toBe('llm');
      expect(turns(requestFor('who is allergic to cats'))).toEqual([
        ['user', 'who is allergic to cats'],
      ]);

      second = await json('ask', '--continue', 'and to what else', '--json');
      expect(second.conversationId).toBe(first.conversationId);
      expect(turns(requestFor('and to what else'))).toEqual([
        ['user', 'who is allergic to cats'],
        ['assistant', first.answer],
        ['user', 'and to what else'],
      ]);

      other = await json('ask', 'what is the wifi hint', '--json');
      expect(other.conversationId).not.toBe(first.conversationId);
      expect(turns(requestFor('what is the wifi hint'))).toEqual([
        ['user', 'what is the wifi hint'],
      ]);

      // By a prefix of its id, though another conversation is the latest.
      const back = await json(
        'ask',
        '--conversation',
        first.conversationId.slice(0, 8),
        'one more thing',
        '--json',
      );
      expect(back.conversationId).toBe(first.conversationId);
      expect(turns(requestFor('one more thing')).map(([role, text]) => `${role}: ${text}`)).toEqual(
        [
          'user: who is allergic to cats',
          `assistant: ${first.answer}`,
          'user: and to what else',
          `assistant: ${second.answer}`,
          'user: one more thing',
        ],
      );

      const unknown = await aios('ask', '--conversation', 'ffffffff', 'hello');
      expect(unknown.code).toBe(1);
      expectOneLineError(unknown.stderr, 'CONVERSATION_NOT_FOUND');
    },
  );

  it('ask prints the answer id and its conversation', SLOW, async () => {
    const r = await aios('ask', '--continue', 'thanks');
    expect(r.code).toBe(0);
    const [, id, conversation] =
      r.stdout.match(/answer ([0-9a-f-]{36}) · conversation ([0-9a-f]{8})/) ?? [];
    expect(conversation).toBe(first.conversationId.slice(0, 8));
    const shown = await json('conversations', 'show', first.conversationId, '--json');
    expect(shown.turns.at(-1)).toMatchObject({ question: 'thanks', answerId: id });
  });

  it('conversations list, show and delete', SLOW, async () => {
    const list = await json('conversations', 'list', '--json');
    expect(list.total).toBe(2);
    expect(list.conversations).toMatchObject([
      { id: first.conversationId, turns: 4, title: 'who is allergic to cats' },
      { id: other.conversationId, turns: 1, title: 'what is the wifi hint' },
    ]);
    const text = await aios('conversations', 'list');
    expect(text.stdout).toContain(`${first.conversationId.slice(0, 8)}  `);
    expect(text.stdout).toContain('4 turns');

    const shown = await json('conversations', 'show', first.conversationId.slice(0, 6), '--json');
    expect(shown.id).toBe(first.conversationId);
    expect(shown.title).toBe('who is allergic to cats'); // as the list titles it
    expect(shown.turns.map((t: { question: string }) => t.question)).toEqual([
      'who is allergic to cats',
      'and to what else',
      'one more thing',
      'thanks',
    ]);
    expect(shown.turns[0]).toMatchObject({ answerId: first.id, answer: first.answer, mode: 'llm' });
    const page = await aios('conversations', 'show', first.conversationId);
    expect(page.stdout).toContain('you> who is allergic to cats');
    expect(page.stdout).toContain(`answer ${first.id}`);

    // Not without a yes; then the conversation, and what Luna remembered of it, are gone.
    const refused = await aios('conversations', 'delete', first.conversationId);
    expect(refused.code).toBe(1);
    expectOneLineError(refused.stderr, 'CONFIRMATION_REQUIRED');
    const deleted = await json('conversations', 'delete', first.conversationId, '--yes', '--json');
    // The exchanges Luna remembered: those that state something ("and to what else", "one
    // more thing"), not the question memory (empty here) could not answer, nor "thanks".
    expect(deleted).toEqual({ deleted: [first.conversationId], memoriesDeleted: 2 });
    const after = await json('conversations', 'list', '--json');
    expect(after.conversations.map((c: { id: string }) => c.id)).toEqual([other.conversationId]);
    const gone = await aios('conversations', 'show', first.conversationId);
    expectOneLineError(gone.stderr, 'CONVERSATION_NOT_FOUND');
    // --continue goes on with the latest one left.
    const next = await json('ask', '--continue', 'and the password', '--json');
    expect(next.conversationId).toBe(other.conversationId);
  });

  it('--model, --persona and --system change one call', SLOW, async () => {
    await json('ask', '--model', 'other-model', 'which model', '--json');
    expect(requestFor('which model').body.model).toBe('other-model');

    const pirate = 'You are a pirate; answer like one.';
    expect((await aios('config', 'set', 'luna.personas.pirate', pirate)).code).toBe(0);
    await json('ask', '--persona', 'pirate', 'ahoy there', '--json');
    const system = (q: string) => messagesOf(requestFor(q))[0] as Message;
    expect(system('ahoy there')).toMatchObject({ role: 'system' });
    expect(system('ahoy there').content.startsWith(pirate)).toBe(true);

    await json('ask', '--system', 'Answer in one word.', 'how are you', '--json');
    expect(system('how are you').content.startsWith('Answer in one word.')).toBe(true);

    // A saved default persona, and Luna's own without one.
    expect((await aios('config', 'set', 'luna.persona', 'pirate')).code).toBe(0);
    await json('ask', 'who sails', '--json');
    expect(system('who sails').content.startsWith(pirate)).toBe(true);
    expect((await aios('config', 'unset', 'luna.persona')).code).toBe(0);
    await json('ask', 'who rows', '--json');
    expect(system('who rows').content.startsWith('You are Luna')).toBe(true);

    const ghost = await aios('ask', '--persona', 'ghost', 'boo');
    expect(ghost.code).toBe(1);
    expectOneLineError(ghost.stderr, 'PERSONA_NOT_FOUND');
    expect(ghost.stderr).toContain('saved: pirate');
  });
});
