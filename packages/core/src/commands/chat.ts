import { createInterface } from 'node:readline';
import type { Answer } from '@aios/luna';
import { AiosError, isAiosError } from '@aios/utils';
import type { Command } from 'commander';
import { type SourceView, sourceLine } from './answers.js';
import { askWithSources } from './ask.js';
import { pc } from './colors.js';
import { undoneLine } from './feedback.js';
import { withAios } from './open-system.js';

const HELP = `commands: /feedback <rating -1..1> [text], /feedback undo, /sources, /personality, /help, /exit`;

/**
 * An interactive conversation with Luna: one question per line (a terminal or piped stdin),
 * the answer streamed as it arrives, slash commands between questions.
 */
export function registerChat(program: Command): void {
  program
    .command('chat')
    .summary('talk with Luna, one question per line (/help lists the chat commands)')
    .description(
      'talk with Luna: one question per line (terminal or piped stdin); /feedback, /feedback undo, /sources, /personality, /exit',
    )
    .action(async (_options: unknown, command: Command) => {
      await withAios(command, async (aios) => {
        const tty = process.stdin.isTTY === true;
        const rl = createInterface({
          input: process.stdin,
          ...(tty ? { output: process.stdout, prompt: pc.cyan('you> ') } : {}),
          terminal: tty,
        });
        const conversationId = `chat-${Date.now().toString(36)}`;
        let last: { answer: Answer; sources: SourceView[] } | undefined;
        if (tty) console.log(pc.dim(`chatting with Luna (${HELP})`));
        rl.prompt?.();
        for await (const raw of rl) {
          const line = raw.trim();
          try {
            if (line === '') {
              // nothing
            } else if (line === '/exit' || line === '/quit') {
              break;
            } else if (line === '/help') {
              console.log(HELP);
            } else if (line === '/sources') {
              if (!last) console.log(pc.dim('no answer yet'));
              else if (last.sources.length === 0)
                console.log(pc.dim('the last answer used no sources'));
              else {
                for (const [i, s] of last.sources.entries()) console.log(sourceLine(s, i + 1));
              }
            } else if (line === '/personality') {
              const traits = await aios.luna.traits();
              console.log(
                Object.entries(traits)
                  .map(([k, v]) => `${k} ${(v as number).toFixed(2)}`)
                  .join(', '),
              );
            } else if (line === '/feedback undo') {
              // The latest feedback still in effect, whichever answer it was on.
              console.log(pc.dim(undoneLine(await aios.undoFeedback())));
            } else if (line.startsWith('/feedback')) {
              const [, value = '', ...rest] = line.split(/\s+/);
              const rating = Number(value);
              if (value === '' || !Number.isFinite(rating) || rating < -1 || rating > 1) {
                throw new AiosError(
                  'INVALID_INPUT',
                  `rating: expected a number from -1 to 1, got "${value}"`,
                );
              }
              if (!last) throw new AiosError('INVALID_INPUT', 'no answer to rate yet');
              const text = rest.join(' ');
              await aios.feedback(last.answer.id, { rating, ...(text ? { text } : {}) });
              console.log(pc.dim(`feedback recorded for ${last.answer.id}`));
            } else if (line.startsWith('/')) {
              throw new AiosError(
                'USAGE_ERROR',
                `unknown chat command ${line.split(/\s+/)[0]} (${HELP})`,
              );
            } else {
              let streamed = false;
              const result = await askWithSources(aios, line, {
                conversationId,
                onDelta: (t) => {
                  streamed = true;
                  process.stdout.write(t);
                },
              });
              last = result;
              if (streamed) process.stdout.write('\n');
              else {
                const text = result.answer.answer.trim();
                console.log(
                  result.answer.mode === 'offline' && !text.startsWith('[offline]')
                    ? `${pc.yellow('[offline]')} ${text}`
                    : text,
                );
              }
            }
          } catch (error) {
            if (!isAiosError(error)) throw error;
            // A bad line does not end the conversation.
            process.stderr.write(`aios: ${error.message} [${error.code}]\n`);
            process.exitCode = 1;
          }
          rl.prompt?.();
        }
        rl.close();
      });
    });
}
