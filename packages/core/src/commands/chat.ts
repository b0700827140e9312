import { createInterface, type Interface } from 'node:readline';
import { isAiosError } from '@aios/utils';
import type { Command } from 'commander';
import type { Aios } from '../aios.js';
import { askWithSources, type CallFlags, callOptions, offlineHint, personaFor } from './ask.js';
import { CHAT_HELP, type ChatState, runChatCommand } from './chat-commands.js';
import { outputGone } from './closed-output.js';
import { pc } from './colors.js';
import {
  latestConversation,
  messagesOf,
  resolveConversation,
  shortId,
  turnsOf,
} from './conversations.js';
import { type SystemOptions, withWritableAios } from './open-system.js';

interface ChatFlags extends CallFlags {
  resume?: string | boolean;
}

interface LoopState extends ChatState {
  /** The answer being written, to cancel on Ctrl-C. */
  answering?: AbortController | undefined;
  /** Whether the reason answers are quoted from memory was told. */
  hinted?: boolean;
}

/** The conversation `--resume` names (the latest one for a bare `--resume`), recapped. */
async function resumed(aios: Aios, resume: string | true): Promise<string | undefined> {
  const id =
    resume === true ? await latestConversation(aios) : await resolveConversation(aios, resume);
  if (id === undefined) {
    console.log(pc.dim('no conversation to resume yet: this one is new'));
    return undefined;
  }
  const turns = turnsOf(await messagesOf(aios, id));
  console.log(
    pc.dim(
      `resuming conversation ${shortId(id)} (${turns.length} earlier turn${turns.length === 1 ? '' : 's'})`,
    ),
  );
  for (const t of turns.slice(-2)) {
    if (t.question) console.log(pc.dim(`you> ${t.question}`));
    if (t.answer !== null) console.log(pc.dim(`luna> ${t.answer}`));
  }
  return id;
}

/** Prints an error of one line; the chat goes on. */
function report(error: unknown): void {
  if (isAiosError(error)) process.stderr.write(`aios: ${error.message} [${error.code}]\n`);
  else {
    process.stderr.write(
      `aios: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    if (process.env.AIOS_DEBUG) console.error(error);
  }
  process.exitCode = 1;
}

/**
 * Ctrl-C on a terminal: cancels the answer being written; else clears a half-typed line;
 * else (nothing typed) ends the chat. Ctrl-D on an empty line ends it too.
 */
function onInterrupt(rl: Interface, state: LoopState): void {
  rl.on('SIGINT', () => {
    if (state.answering) {
      state.answering.abort();
      return;
    }
    if (rl.line !== '') {
      process.stdout.write('^C\n');
      rl.write(null, { ctrl: true, name: 'u' });
      rl.prompt();
      return;
    }
    rl.close();
  });
}

async function answer(
  aios: Aios,
  question: string,
  state: LoopState,
  options: { persona: string | undefined; offline: boolean; signal: AbortSignal },
): Promise<void> {
  let streamed = false;
  const result = await askWithSources(aios, question, {
    ...(state.conversationId ? { conversationId: state.conversationId } : {}),
    ...(options.persona ? { persona: options.persona } : {}),
    signal: options.signal,
    onDelta: (t) => {
      streamed = true;
      process.stdout.write(t);
    },
  });
  state.last = result;
  state.conversationId = result.answer.conversationId;
  if (streamed) process.stdout.write('\n');
  else {
    const text = result.answer.answer.trim();
    console.log(
      result.answer.mode === 'offline' && !text.startsWith('[offline]')
        ? `${pc.yellow('[offline]')} ${text}`
        : text,
    );
  }
  // Said once, at the first answer that is quoted from memory.
  const hint = offlineHint(result.answer, aios.config, options.offline);
  if (hint && state.hinted !== true) {
    console.log(pc.dim(hint));
    state.hinted = true;
  }
}

/**
 * An interactive conversation with Luna: one question per line (a terminal or piped stdin),
 * the answer streamed as it arrives, slash commands between questions. A mistake on a line
 * is reported and the chat goes on; Ctrl-D, /exit or Ctrl-C on an empty line end it on a
 * fresh line.
 */
export function registerChat(program: Command): void {
  const chat = program
    .command('chat')
    .summary('talk with Luna, one question per line (/help lists the chat commands)')
    .description(
      'talk with Luna: one question per line (terminal or piped stdin), each answer knowing the earlier turns; /feedback, /feedback undo, /sources, /personality, /conversation, /exit',
    )
    .option('--resume [id]', 'go on with the latest conversation, or the one given (id or prefix)');
  callOptions(chat).action(async (options: ChatFlags, command: Command) => {
    const offline = command.optsWithGlobals<SystemOptions>().offline === true;
    // A chat records every turn: a read-only home is refused at once.
    await withWritableAios(
      command,
      async (aios) => {
        const persona = personaFor(aios.config, options);
        const tty = process.stdin.isTTY === true;
        const state: LoopState = {
          last: undefined,
          conversationId:
            options.resume === undefined || options.resume === false
              ? undefined
              : await resumed(aios, options.resume),
        };
        const rl = createInterface({
          input: process.stdin,
          ...(tty ? { output: process.stdout, prompt: pc.cyan('you> ') } : {}),
          terminal: tty,
        });
        if (tty) onInterrupt(rl, state);
        if (tty) console.log(pc.dim(`chatting with Luna (${CHAT_HELP})`));
        rl.prompt?.();
        let exited = false;
        for await (const raw of rl) {
          const line = raw.trim();
          try {
            if (line.startsWith('/')) {
              exited = (await runChatCommand(aios, line, state)) === 'exit';
            } else if (line !== '') {
              state.answering = new AbortController();
              await answer(aios, line, state, {
                persona,
                offline,
                signal: state.answering.signal,
              });
            }
          } catch (error) {
            if (isAiosError(error, 'LUNA_ABORTED')) process.stdout.write(pc.dim('\n(cancelled)\n'));
            else report(error);
          } finally {
            state.answering = undefined;
          }
          if (exited || (await outputGone())) break;
          rl.prompt?.();
        }
        rl.close();
        // Ctrl-D and Ctrl-C leave the cursor after the prompt: the shell's goes on a line of its own.
        if (tty && !exited) process.stdout.write('\n');
      },
      { tokens: true },
    );
  });
}
