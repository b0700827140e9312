import { type ChatServer, type RecordedRequest, startChatServer } from '@aios/luna/testing';
import { testImplementations } from '@aios/utils/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempHomes } from './testing/cli.js';
import { CTRL_C, CTRL_D, ENTER, type PtyStep, python, runInPty } from './testing/pty.js';
import { runCliAsync } from './testing/run.js';

// `aios chat` at a terminal: driven through a pseudo-terminal (Python's pty module, no
// native module), against a scripted language model on loopback that records its prompts.
// Each input waits for the output it answers (never a timer).

const tempHome = tempHomes('aios-chat-pty-');
const SLOW = { timeout: 180_000 };

/** Runs `aios chat ...args` at a pseudo-terminal, going through `steps`. */
const chat = (home: string, args: string[], env: Record<string, string>, steps: PtyStep[]) =>
  runInPty(home, ['chat', ...args], env, steps);

let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer();
});
afterAll(() => server.close());

/** The chat request that asked `question` (its last message). */
function requestFor(question: string): RecordedRequest | undefined {
  return server.requests
    .filter((r) => r.url === '/v1/chat/completions')
    .filter((r) => r.body.messages?.at(-1)?.content === question)
    .at(-1);
}
const asked = (question: string) => `You asked: ${question}`;

describe.skipIf(!python).each(testImplementations())(
  'aios chat at a terminal (AIOS_NATIVE=%s)',
  (impl) => {
    const env = { AIOS_NATIVE: impl };
    let home: string;

    beforeAll(async () => {
      home = tempHome();
      await runCliAsync(home, ['config', 'set', 'luna.llm.baseUrl', server.baseUrl], env);
      await runCliAsync(home, ['config', 'set', 'luna.llm.model', 'test-model'], env);
    }, 60_000);

    it(
      'goes on after a mistyped command or a bad line, knows the earlier turns, and Ctrl-D leaves on a fresh line',
      SLOW,
      async () => {
        const session = await chat(home, [], env, [
          { wait: 'you> ', send: `who is allergic to cats${ENTER}` },
          { wait: asked('who is allergic to cats') },
          { wait: 'you> ', send: `/nope${ENTER}` },
          { wait: '[USAGE_ERROR]' },
          { wait: 'you> ', send: `/feedback lots${ENTER}` },
          { wait: '[INVALID_INPUT]' },
          { wait: 'you> ', send: `and to what else${ENTER}` },
          { wait: asked('and to what else') },
          { wait: 'you> ', send: CTRL_D },
        ]);
        expect(session.done, session.output).toBe(9);
        expect(session.output).toContain('unknown chat command /nope');
        expect(session.output).toContain('rating: expected a number from -1 to 1, got "lots"');
        // The second question was asked with the first exchange before it.
        const second = requestFor('and to what else');
        expect(second?.body.messages?.slice(1).map((m) => m.role)).toEqual([
          'user',
          'assistant',
          'user',
        ]);
        expect(second?.body.messages?.[1]?.content).toBe('who is allergic to cats');
        // Ctrl-D: the shell's prompt will start on a line of its own.
        expect(session.raw).toMatch(/you> [^\n]*\r?\n$/);
        expect(session.status).toBe(1); // the mistakes were reported
        const list = await runCliAsync(home, ['conversations', 'list', '--json'], env);
        expect(JSON.parse(list.stdout).conversations).toMatchObject([{ turns: 2 }]);
      },
    );

    it(
      '--resume goes on with the latest conversation; Ctrl-C clears a line, then leaves',
      SLOW,
      async () => {
        const session = await chat(home, ['--resume'], env, [
          { wait: 'resuming conversation' },
          { wait: '(2 earlier turns)' },
          { wait: 'chatting with Luna' },
          { wait: 'you> ', send: `never mind${CTRL_C}` },
          { wait: '^C' },
          { wait: 'you> ', send: `one more thing${ENTER}` },
          { wait: asked('one more thing') },
          { wait: 'you> ', send: CTRL_C },
        ]);
        expect(session.done, session.output).toBe(8);
        expect(requestFor('never mind')).toBeUndefined();
        const turns = requestFor('one more thing')
          ?.body.messages?.slice(1)
          .map((m) => m.content);
        expect(turns?.filter((_, i) => i % 2 === 0)).toEqual([
          'who is allergic to cats',
          'and to what else',
          'one more thing',
        ]);
        expect(session.raw).toMatch(/you> [^\n]*\r?\n$/);
        expect(session.status).toBe(0);
      },
    );

    it('Ctrl-C while an answer is written cancels it, and the chat goes on', SLOW, async () => {
      // The next reply comes a word every 1.5 s: long enough to be interrupted mid-answer.
      server.queue.push({ kind: 'slow-stream', gapMs: 1_500 });
      const session = await chat(home, [], env, [
        { wait: 'you> ', send: `tell me a long story?${ENTER}` },
        { wait: 'You ', send: CTRL_C },
        { wait: '(cancelled)' },
        { wait: 'you> ', send: `a short one?${ENTER}` },
        { wait: asked('a short one?') },
        { wait: 'you> ', send: `/exit${ENTER}` },
      ]);
      expect(session.done, session.output).toBe(6);
      expect(session.output).not.toContain(asked('tell me a long story?'));
      expect(session.status).toBe(0);
    });
  },
);
