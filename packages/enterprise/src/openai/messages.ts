import { type GivenTurn, MAX_QUESTION_CHARS } from '@aios/luna';
import { apiError } from '../http/errors.js';

/**
 * An OpenAI `messages` array as Luna takes a conversation: the client's system (and
 * developer) instructions, the earlier turns, and the question (the last message, which
 * must be the user's). Only text is understood; anything else is refused with the field
 * it is about (`param`), never ignored silently.
 */
export interface Conversation {
  /** System and developer messages, in order. */
  instructions: string[];
  /** The earlier turns, oldest first. */
  history: GivenTurn[];
  question: string;
  /** The first user message: with the model and user it names the conversation. */
  opening: string;
}

/** A message as the route schema lets it through (roles and contents checked here). */
export interface RawMessage {
  role: string;
  content?: unknown;
  [field: string]: unknown;
}

const SYSTEM_ROLES = new Set(['system', 'developer']);

const invalid = (param: string, message: string) =>
  apiError('INVALID_INPUT', message, { param, field: `body.${param}` });

/** The text of a message's content: a string, or text parts (`{ type: 'text', text }`). */
function textOf(content: unknown, param: string, role: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) {
    // An assistant message may carry tool calls in place of content.
    if (role === 'assistant') return '';
    throw invalid(param, `${param}: a ${role} message needs content`);
  }
  if (!Array.isArray(content)) {
    throw invalid(param, `${param}: expected a string or an array of text parts`);
  }
  const texts: string[] = [];
  content.forEach((part: unknown, i) => {
    const { type, text } = (part ?? {}) as { type?: unknown; text?: unknown };
    if (type === 'text' && typeof text === 'string') texts.push(text);
    else if (type === 'refusal' && role === 'assistant') return;
    else {
      throw invalid(
        `${param}[${i}]`,
        `${param}[${i}]: only text parts are understood (got ${JSON.stringify(type ?? null)})`,
      );
    }
  });
  return texts.join('\n');
}

/** Splits and checks `messages`; throws `INVALID_INPUT` naming the message at fault. */
export function readConversation(messages: readonly RawMessage[]): Conversation {
  if (messages.length === 0) {
    throw invalid('messages', 'messages: at least one message is needed');
  }
  const instructions: string[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; text: string }> = [];
  messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    const role = message.role;
    if (role === 'tool' || role === 'function') {
      throw invalid(
        `${param}.role`,
        `${param}.role: "${role}" messages are not supported (Luna calls no tools)`,
      );
    }
    if (!SYSTEM_ROLES.has(role) && role !== 'user' && role !== 'assistant') {
      throw invalid(
        `${param}.role`,
        `${param}.role: expected system, developer, user or assistant (got ${JSON.stringify(role)})`,
      );
    }
    const text = textOf(message.content, `${param}.content`, role);
    if (SYSTEM_ROLES.has(role)) {
      if (text.trim() !== '') instructions.push(text);
      return;
    }
    turns.push({ role: role as 'user' | 'assistant', text });
  });
  const last = turns.at(-1);
  if (last?.role !== 'user') {
    throw invalid(
      'messages',
      'messages: the last message (after any system ones) must be the user’s',
    );
  }
  if (last.text.trim() === '') {
    throw invalid(`messages[${messages.length - 1}].content`, 'the last user message is empty');
  }
  // Consecutive messages of one side are one turn; a turn the assistant opened has no question.
  const history: GivenTurn[] = [];
  let asked: string[] = [];
  let answer: string[] = [];
  const flush = () => {
    if (asked.length > 0 || answer.length > 0) {
      history.push({ question: asked.join('\n\n'), answer: answer.join('\n\n') });
    }
    asked = [];
    answer = [];
  };
  for (const turn of turns.slice(0, -1)) {
    if (turn.role === 'user' && answer.length > 0) flush();
    // An assistant message that only called tools (no content) adds nothing to the turn.
    if (turn.text !== '') (turn.role === 'user' ? asked : answer).push(turn.text);
  }
  // User messages right before the last one belong to the question.
  const pending = answer.length === 0 ? asked : [];
  if (answer.length > 0) flush();
  const question = [...pending, last.text].join('\n\n');
  if (question.length > MAX_QUESTION_CHARS) {
    throw apiError(
      'CONTEXT_LENGTH_EXCEEDED',
      `the question (the last user messages) has ${question.length} characters; at most ${MAX_QUESTION_CHARS} are read`,
      { param: 'messages', limit: MAX_QUESTION_CHARS },
    );
  }
  const opening = turns.find((t) => t.role === 'user')?.text ?? last.text;
  return { instructions, history, question, opening };
}
