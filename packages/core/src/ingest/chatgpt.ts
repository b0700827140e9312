import { type Chunk, textChunks } from './chunk.js';
import { invalidFile } from './json.js';

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A ChatGPT data export (`conversations.json`): an array of conversations with a `mapping`. */
export function isChatGptExport(value: unknown): value is unknown[] {
  return (
    Array.isArray(value) && value.length > 0 && value.some((c) => isPlain(c) && 'mapping' in c)
  );
}

/** One message to ingest, checked. */
export interface ChatGptMessage {
  /** Index of its conversation in the export. */
  conversation: number;
  title: string;
  conversationId: string;
  role: string;
  /** Seconds since the epoch, as the export writes it. */
  time: number | null;
  text: string;
  id: string;
}

function messageText(content: unknown): string {
  if (!isPlain(content)) return '';
  if (typeof content.text === 'string') return content.text;
  if (!Array.isArray(content.parts)) return '';
  return content.parts
    .map((p) =>
      typeof p === 'string' ? p : isPlain(p) && typeof p.text === 'string' ? p.text : '',
    )
    .filter((p) => p.trim() !== '')
    .join('\n\n');
}

/** An id as the export writes it (a string, sometimes a number); anything else is refused. */
function idText(value: unknown, fallback: string, path: string, where: string): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return fail(path, `${where} has an id that is not a string`);
}

/** Latest time a `Date` can hold, in seconds. */
const MAX_TIME_S = 8.64e12;

function fail(path: string, message: string): never {
  throw invalidFile(path, `not a valid ChatGPT export: ${message}`);
}

/** The messages of one conversation: the kept thread (current_node up to the root), else all. */
function threadOf(conversation: Plain, nodes: Plain): Plain[] {
  const current = conversation.current_node;
  if (typeof current !== 'string' || !Object.hasOwn(nodes, current) || !isPlain(nodes[current])) {
    return Object.values(nodes).filter(isPlain);
  }
  const order: Plain[] = [];
  const seen = new Set<string>();
  for (let key: unknown = current; typeof key === 'string' && !seen.has(key); ) {
    seen.add(key);
    const node = Object.hasOwn(nodes, key) ? nodes[key] : undefined;
    if (!isPlain(node)) break;
    order.push(node);
    key = node.parent;
  }
  return order.reverse();
}

/**
 * Every message of every conversation to ingest, checked first: a conversation without a
 * `mapping`, a message without `author.role`, an id that is not a string or a
 * `create_time` that is not a time fails the file with `INGEST_INVALID`.
 */
export function chatGptMessages(conversations: unknown[], path: string): ChatGptMessage[] {
  const out: ChatGptMessage[] = [];
  for (const [i, conversation] of conversations.entries()) {
    let where = `conversation ${i + 1}`;
    if (!isPlain(conversation) || !isPlain(conversation.mapping)) {
      fail(path, `${where} has no "mapping" object`);
    }
    const title = typeof conversation.title === 'string' ? conversation.title : '(untitled)';
    where = `${where} ("${title}")`;
    const conversationId = idText(
      conversation.conversation_id ?? conversation.id,
      String(i),
      path,
      where,
    );
    const messages: ChatGptMessage[] = [];
    for (const node of threadOf(conversation, conversation.mapping)) {
      const message = node.message;
      if (message === null || message === undefined) continue;
      if (
        !isPlain(message) ||
        !isPlain(message.author) ||
        typeof message.author.role !== 'string'
      ) {
        fail(path, `${where} has a message without author.role`);
      }
      const id = idText(message.id ?? node.id, '', path, `a message of ${where}`);
      const t = message.create_time;
      if (
        t !== undefined &&
        t !== null &&
        (typeof t !== 'number' || !Number.isFinite(t) || Math.abs(t) > MAX_TIME_S)
      ) {
        fail(path, `message ${id} of ${where} has a create_time that is not a time`);
      }
      const text = messageText(message.content).trim();
      if (!text || message.author.role === 'system' || message.author.role === 'tool') continue;
      messages.push({
        conversation: i,
        title,
        conversationId,
        role: message.author.role,
        time: typeof t === 'number' ? t : null,
        text,
        id,
      });
    }
    if (typeof conversation.current_node !== 'string') {
      messages.sort(
        (a, b) => (a.time ?? Number.MAX_SAFE_INTEGER) - (b.time ?? Number.MAX_SAFE_INTEGER),
      );
    }
    for (const m of messages) out.push(m);
  }
  return out;
}

/** The chunks of checked messages, each with its conversation, role and time. */
export function* chatGptChunks(messages: ChatGptMessage[], source: string): Generator<Chunk> {
  for (const m of messages) {
    const time = m.time === null ? '' : new Date(m.time * 1000).toISOString();
    for (const c of textChunks(m.text, source)) {
      yield {
        ...c,
        offset: m.conversation,
        line: 1,
        kind: 'chatgpt',
        meta: {
          conversation: m.title,
          conversationId: m.conversationId,
          role: m.role,
          time,
          messageId: m.id,
        },
      };
    }
  }
}

/** Each message of each conversation becomes fragments with its conversation, role and time. */
export function chunkChatGptExport(conversations: unknown[], path: string): Chunk[] {
  return [...chatGptChunks(chatGptMessages(conversations, path), path)];
}
