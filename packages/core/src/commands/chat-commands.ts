/** The slash commands of `aios chat`: one line each, a mistake is reported and the chat goes on. */
import type { Answer } from '@aios/luna';
import { AiosError } from '@aios/utils';
import type { Aios } from '../aios.js';
import { type SourceView, sourceLine, withAnswer } from './answers.js';
import { pc } from './colors.js';
import { shortId } from './conversations.js';
import { traitsLine, undoneLine } from './feedback.js';

export const CHAT_HELP =
  'commands: /feedback <rating -1..1> [text], /feedback undo, /sources, /personality, /conversation, /help, /exit (Ctrl-D leaves too)';

const COMMANDS = [
  '/feedback',
  '/sources',
  '/personality',
  '/conversation',
  '/help',
  '/exit',
  '/quit',
];

/** What a chat knows between lines. */
export interface ChatState {
  last: { answer: Answer; sources: SourceView[] } | undefined;
  conversationId: string | undefined;
}

/** The chat command closest to a mistyped one, when one is close. */
function closest(word: string): string | undefined {
  const near = COMMANDS.filter((c) => c.startsWith(word) || word.startsWith(c));
  return near.length === 1 ? near[0] : undefined;
}

/**
 * Runs one slash command. Returns `exit` for /exit and /quit; throws an `AiosError` for a
 * line it cannot run (the chat reports it and goes on).
 */
export async function runChatCommand(
  aios: Aios,
  line: string,
  state: ChatState,
): Promise<'exit' | undefined> {
  const [typed = '', ...args] = line.split(/\s+/);
  // `/Help` with the shift key held is still /help.
  const word = typed.toLowerCase();
  switch (word) {
    case '/exit':
    case '/quit':
      return 'exit';
    case '/help':
      console.log(CHAT_HELP);
      return;
    case '/sources': {
      const last = state.last;
      if (!last) console.log(pc.dim('no answer yet'));
      else if (last.sources.length === 0) console.log(pc.dim('the last answer used no sources'));
      else {
        // As `aios ask` lists them: by relevance, at the line of the sentence quoted.
        const views = withAnswer(last.answer, last.sources);
        for (const [i, s] of views.entries()) console.log(sourceLine(s, i + 1));
      }
      return;
    }
    case '/personality':
      console.log(traitsLine(await aios.luna.traits()));
      return;
    case '/conversation':
      console.log(
        state.conversationId
          ? `conversation ${state.conversationId} (\`aios chat --resume ${shortId(state.conversationId)}\` goes on with it later)`
          : pc.dim('no conversation yet: it starts with the first question'),
      );
      return;
    case '/feedback': {
      if (args[0] === 'undo') {
        if (args.length > 1) {
          throw new AiosError('USAGE_ERROR', '/feedback undo takes nothing after it');
        }
        // The latest feedback still in effect, whichever answer it was on.
        console.log(pc.dim(undoneLine(await aios.undoFeedback())));
        return;
      }
      if (args.length === 0 || args[0] === '') {
        throw new AiosError(
          'USAGE_ERROR',
          '/feedback needs a rating from -1 to 1, e.g. /feedback 1 just right, or undo',
        );
      }
      const [value = '', ...rest] = args;
      const rating = Number(value);
      if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value) || rating < -1 || rating > 1) {
        throw new AiosError(
          'INVALID_INPUT',
          `rating: expected a number from -1 to 1, got "${value}"`,
        );
      }
      if (!state.last) throw new AiosError('INVALID_INPUT', 'no answer to rate yet');
      const text = rest.join(' ');
      await aios.feedback(state.last.answer.id, { rating, ...(text ? { text } : {}) });
      console.log(pc.dim(`feedback recorded for ${state.last.answer.id}`));
      return;
    }
    default: {
      const suggestion = closest(word);
      throw new AiosError(
        'USAGE_ERROR',
        `unknown chat command ${typed}${suggestion ? ` (did you mean ${suggestion}?)` : ''}; ${CHAT_HELP}`,
      );
    }
  }
}
