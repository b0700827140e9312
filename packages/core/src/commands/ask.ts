import type { Answer, AskOptions } from '@aios/luna';
import { DEFAULT_CANDIDATES } from '@aios/luna';
import { type AiosConfig, AiosError, describeReadOnlyCause } from '@aios/utils';
import type { Command } from 'commander';
import type { Aios } from '../aios.js';
import { answerJson, checkQuestion, printAnswer, type SourceView } from './answers.js';
import { pc } from './colors.js';
import { resolveConversation, shortId } from './conversations.js';
import { type SystemOptions, withAios } from './open-system.js';
import { printJson } from './shared.js';

const text = (value: unknown) => (typeof value === 'string' ? value : null);
const number = (value: unknown) => (typeof value === 'number' ? value : null);

/** What the CLI shows of an answer's sources: what Luna retrieved, carried by the answer. */
export function sourceViews(answer: Answer): SourceView[] {
  return answer.sources.map((s) => ({
    id: s.id,
    score: s.score,
    source: text(s.metadata.source),
    line: number(s.metadata.line),
    chapter: text(s.metadata.chapter),
    offset: number(s.metadata.offset),
    namespace: s.namespace,
    text: s.text,
  }));
}

/** Asks Luna (`aios.ask` records the metrics); the sources are printed from the answer. */
export async function askWithSources(aios: Aios, question: string, options?: AskOptions) {
  const answer = await aios.ask(question, options);
  return { answer, sources: sourceViews(answer) };
}

/** The flags `ask` and `chat` share: which model, which system prompt. */
export interface CallFlags {
  model?: string;
  persona?: string;
  system?: string;
}

/**
 * The system prompt of a call: `--system` as given, `--persona` (a saved one,
 * `luna.personas.<name>`), else the saved `luna.persona`; undefined for Luna's own.
 */
export function personaFor(config: AiosConfig, flags: CallFlags): string | undefined {
  if (flags.system !== undefined && flags.persona !== undefined) {
    throw new AiosError('USAGE_ERROR', 'give --system or --persona, not both');
  }
  if (flags.system !== undefined) {
    if (flags.system.trim() === '') {
      throw new AiosError('INVALID_INPUT', '--system: expected a system prompt, got ""');
    }
    return flags.system;
  }
  const saved = config.luna.personas;
  const name = flags.persona ?? config.luna.persona;
  if (name === undefined) return undefined;
  if (!Object.hasOwn(saved, name)) {
    const names = Object.keys(saved);
    throw new AiosError(
      'PERSONA_NOT_FOUND',
      `no saved persona "${name}" (${names.length > 0 ? `saved: ${names.join(', ')}` : 'none saved yet: `aios config set luna.personas.<name> "<system prompt>"`'})`,
      { details: { persona: name, saved: names } },
    );
  }
  return saved[name];
}

/** Why an answer is quoted from memory instead of written by a language model. */
export type OfflineCause =
  | 'offline-flag'
  | 'no-model-configured'
  | 'model-unreachable'
  | 'model-failed';

export function offlineCause(
  answer: Answer,
  config: AiosConfig,
  offline: boolean,
): OfflineCause | undefined {
  if (answer.mode !== 'offline') return undefined;
  if (offline) return 'offline-flag';
  const code = answer.offlineReason?.split(':')[0] ?? '';
  if (!config.luna.llm.baseUrl) {
    return code === 'LLM_UNREACHABLE' || code === 'no language model configured'
      ? 'no-model-configured'
      : 'model-failed';
  }
  return code === 'LLM_UNREACHABLE' || code === 'LLM_TIMEOUT'
    ? 'model-unreachable'
    : 'model-failed';
}

/** The one line that says why no language model wrote the answer, and what to do. */
export function offlineHint(
  answer: Answer,
  config: AiosConfig,
  offline: boolean,
): string | undefined {
  const cause = offlineCause(answer, config, offline);
  const reason = answer.offlineReason ?? '';
  switch (cause) {
    case undefined:
      return undefined;
    case 'offline-flag':
      return '(offline: --offline was given, so no language model was asked)';
    case 'no-model-configured':
      return `(no language model is configured, and none is running where Luna looks: ${DEFAULT_CANDIDATES.join(', ')}; \`aios models\` lists what a server offers, \`aios config set luna.llm.baseUrl <url>\` sets one)`;
    case 'model-unreachable':
      return `(the language model at ${config.luna.llm.baseUrl} did not answer: ${reason}; \`aios health\` checks it)`;
    case 'model-failed':
      return `(the language model failed: ${reason}; \`aios health\` checks it)`;
  }
}

interface AskFlags extends CallFlags {
  json?: boolean;
  continue?: boolean;
  conversation?: string;
}

/** Adds the flags `ask` and `chat` share to a command. */
export function callOptions(command: Command): Command {
  return command
    .option('--model <id>', 'the model for this call (`aios models` lists them)')
    .option('--persona <name>', 'a saved system prompt (luna.personas.<name>) for this call')
    .option('--system <prompt>', "a system prompt for this call, in place of Luna's persona");
}

export function registerAsk(program: Command): void {
  const ask = program
    .command('ask')
    .description(
      'one answer from Luna, with the memory fragments it used as sources; a new conversation unless --continue or --conversation',
    )
    .argument('<question...>', 'the question (quotes are optional: the words are joined)')
    .option(
      '--continue',
      'continue the latest conversation (its earlier turns are part of the question)',
    )
    .option('--conversation <id>', 'continue this conversation (an id or a unique prefix of one)')
    .option('--json', 'print machine-readable JSON');
  callOptions(ask).action(async (words: string[], options: AskFlags, command: Command) => {
    const q = checkQuestion(words.join(' '));
    const offline = command.optsWithGlobals<SystemOptions>().offline === true;
    await withAios(
      command,
      async (aios) => {
        const persona = personaFor(aios.config, options);
        const conversationId =
          options.conversation === undefined
            ? undefined
            : await resolveConversation(aios, options.conversation);
        const { answer, sources } = await askWithSources(aios, q, {
          ...(conversationId ? { conversationId, continue: true } : {}),
          ...(options.continue ? { continue: true } : {}),
          ...(persona ? { persona } : {}),
        });
        const cause = offlineCause(answer, aios.config, offline);
        // A read-only home answers as ever, and records nothing (see `Aios.readOnly`).
        const recorded = aios.readOnly === undefined;
        if (options.json) {
          return printJson({
            ...answerJson(answer, sources),
            offlineCause: cause ?? null,
            recorded,
          });
        }
        printAnswer(answer, sources);
        const hint = offlineHint(answer, aios.config, offline);
        if (hint) console.log(pc.dim(hint));
        console.log(
          pc.dim(
            recorded
              ? `answer ${answer.id} · conversation ${shortId(answer.conversationId)} · rate it with \`aios feedback <answer-id> <-1..1>\`, follow up with \`aios ask --continue <question>\``
              : `not recorded: the home ${aios.home} is read-only (${describeReadOnlyCause(aios.readOnly)}), so this answer cannot be rated or followed up`,
          ),
        );
      },
      { tokens: true },
    );
  });
}
