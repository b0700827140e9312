import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import type { Memory } from '@aios/carma';
import { sentenceEnds } from '@aios/luna';
import { AiosError, fromNodeIoError } from '@aios/utils';

/** File kinds `ingest` reads; in folders only these extensions are picked up. */
const KINDS: Record<string, 'text' | 'markdown' | 'json' | 'jsonl'> = {
  '.txt': 'text',
  '.text': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.json': 'json',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

/** A piece of a file, with where it came from. */
export interface Chunk {
  text: string;
  /** Absolute path of the file. */
  source: string;
  /** Character offset of the chunk in the file. */
  offset: number;
  /** Line (1-based) where the chunk starts. */
  line: number;
  kind: 'text' | 'markdown' | 'json' | 'jsonl' | 'chatgpt';
  /** Extra provenance (a ChatGPT export: conversation, conversationId, role, time). */
  meta?: Record<string, string>;
}

export interface IngestFileResult {
  path: string;
  chunks: number;
  added: number;
  duplicate: number;
  merged: number;
}

export interface IngestResult {
  files: IngestFileResult[];
  added: number;
  duplicate: number;
  merged: number;
  chunks: number;
}

export interface IngestProgress {
  file: string;
  filesDone: number;
  filesTotal: number;
  chunksDone: number;
  chunksTotal: number;
  /** What this file gave. */
  result: IngestFileResult;
}

/** Longest chunk, in characters; paragraphs are packed up to it. */
export const MAX_CHUNK = 500;

/** The files named by `paths` (folders walked recursively, hidden entries skipped), sorted. */
export async function collectFiles(paths: string[]): Promise<string[]> {
  const out = new Set<string>();
  const visit = async (path: string, explicit: boolean): Promise<void> => {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      throw fromNodeIoError(error, path);
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => !n.startsWith('.')).sort();
      for (const name of names) await visit(join(path, name), false);
    } else if (info.isFile() && (explicit || KINDS[extname(path).toLowerCase()])) {
      out.add(path);
    }
  };
  for (const p of paths) await visit(resolve(p), true);
  return [...out];
}

/**
 * Where to end a piece of `para` starting at `start`: the last sentence end that fits (as
 * Luna's offline answer cuts sentences, so "e.g." or "3.5" never end a fragment), else a space.
 */
function cutPoint(para: string, start: number): number {
  const window = para.slice(start, start + MAX_CHUNK + 1);
  const best = sentenceEnds(window)
    .filter((end) => end <= MAX_CHUNK)
    .reduce((last, end) => Math.max(last, end), -1);
  if (best > 0) return start + best;
  const space = window.search(/\s\S*$/);
  return space > 0 ? start + space : start + MAX_CHUNK;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Splits prose into paragraphs packed up to `MAX_CHUNK` characters; headings start a chunk. */
export function chunkText(
  text: string,
  source: string,
  kind: 'text' | 'markdown' = 'text',
): Chunk[] {
  const chunks: Chunk[] = [];
  const paragraphs: Array<{ text: string; offset: number }> = [];
  const re = /\S[\s\S]*?(?=\n[ \t]*\n|$)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const para = m[0].trimEnd();
    // Long paragraphs are cut after the last sentence end that fits, else between words.
    for (let start = 0; start < para.length; ) {
      const end = start + MAX_CHUNK >= para.length ? para.length : cutPoint(para, start);
      const piece = para.slice(start, end).trim();
      if (piece) paragraphs.push({ text: piece, offset: m.index + start });
      start = end;
      while (start < para.length && /\s/.test(para[start] as string)) start++;
    }
  }
  let current: { text: string; offset: number } | undefined;
  const flush = () => {
    if (current) {
      chunks.push({
        text: current.text,
        source,
        offset: current.offset,
        line: lineAt(text, current.offset),
        kind,
      });
    }
    current = undefined;
  };
  for (const p of paragraphs) {
    const heading = kind === 'markdown' && /^#{1,6}\s/.test(p.text);
    if (current && (heading || current.text.length + 2 + p.text.length > MAX_CHUNK)) flush();
    current = current ? { text: `${current.text}\n\n${p.text}`, offset: current.offset } : p;
  }
  flush();
  return chunks;
}

function recordText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const key of ['text', 'content', 'body', 'message']) {
      if (typeof o[key] === 'string') {
        const title = typeof o.title === 'string' ? `${o.title}\n\n` : '';
        return `${title}${o[key] as string}`;
      }
    }
  }
  return JSON.stringify(value, null, 1);
}

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A ChatGPT data export (`conversations.json`): an array of conversations with a `mapping`. */
export function isChatGptExport(value: unknown): value is unknown[] {
  return (
    Array.isArray(value) && value.length > 0 && value.some((c) => isPlain(c) && 'mapping' in c)
  );
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

/** Each message of each conversation becomes fragments with its conversation, role and time. */
export function chunkChatGptExport(conversations: unknown[], path: string): Chunk[] {
  const chunks: Chunk[] = [];
  for (const [i, conversation] of conversations.entries()) {
    const where = `conversation ${i + 1}`;
    if (!isPlain(conversation) || !isPlain(conversation.mapping)) {
      throw invalidFile(path, `not a valid ChatGPT export: ${where} has no "mapping" object`);
    }
    const title = typeof conversation.title === 'string' ? conversation.title : '(untitled)';
    const id = String(conversation.conversation_id ?? conversation.id ?? i);
    const nodes = conversation.mapping;
    // The thread that was kept (current_node up to the root), else every message by time.
    let order: Plain[] = [];
    if (
      typeof conversation.current_node === 'string' &&
      isPlain(nodes[conversation.current_node])
    ) {
      const seen = new Set<string>();
      for (
        let key: unknown = conversation.current_node;
        typeof key === 'string' && !seen.has(key);
      ) {
        seen.add(key);
        const node = nodes[key];
        if (!isPlain(node)) break;
        order.unshift(node);
        key = node.parent;
      }
    } else {
      order = Object.values(nodes).filter(isPlain);
    }
    const messages: Array<{ role: string; time: number | null; text: string; id: string }> = [];
    for (const node of order) {
      const message = node.message;
      if (message === null || message === undefined) continue;
      if (
        !isPlain(message) ||
        !isPlain(message.author) ||
        typeof message.author.role !== 'string'
      ) {
        throw invalidFile(
          path,
          `not a valid ChatGPT export: ${where} ("${title}") has a message without author.role`,
        );
      }
      const text = messageText(message.content).trim();
      if (!text || message.author.role === 'system' || message.author.role === 'tool') continue;
      const time = typeof message.create_time === 'number' ? message.create_time : null;
      messages.push({
        role: message.author.role,
        time,
        text,
        id: String(message.id ?? node.id ?? ''),
      });
    }
    if (typeof conversation.current_node !== 'string') {
      messages.sort(
        (a, b) => (a.time ?? Number.MAX_SAFE_INTEGER) - (b.time ?? Number.MAX_SAFE_INTEGER),
      );
    }
    for (const m of messages) {
      const time = m.time === null ? '' : new Date(m.time * 1000).toISOString();
      for (const c of chunkText(m.text, path)) {
        chunks.push({
          ...c,
          offset: i,
          line: 1,
          kind: 'chatgpt',
          meta: { conversation: title, conversationId: id, role: m.role, time, messageId: m.id },
        });
      }
    }
  }
  return chunks;
}

function invalidFile(path: string, message: string): AiosError {
  return new AiosError('INGEST_INVALID', `${path}: ${message}`, { details: { path } });
}

/** Reads one file into chunks (JSON: one per array element; JSONL: one per line). */
export async function chunkFile(path: string): Promise<Chunk[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fromNodeIoError(error, path);
  }
  const kind = KINDS[extname(path).toLowerCase()] ?? 'text';
  if (kind === 'text' || kind === 'markdown') return chunkText(text, path, kind);
  const chunks: Chunk[] = [];
  const push = (value: unknown, offset: number, line: number) => {
    for (const c of chunkText(recordText(value), path)) {
      if (c.text.trim()) chunks.push({ ...c, offset: offset + c.offset, line, kind });
    }
  };
  if (kind === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw invalidFile(path, `not valid JSON (${(error as Error).message})`);
    }
    if (isChatGptExport(value)) return chunkChatGptExport(value, path);
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) push(item, i, 1);
    } else push(value, 0, 1);
    return chunks;
  }
  let offset = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim()) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw invalidFile(path, `line ${i + 1} is not valid JSON (${(error as Error).message})`);
      }
      push(value, offset, i + 1);
    }
    offset += line.length + 1;
  }
  return chunks;
}

/**
 * Imports files and folders into CARMA: every file is read and chunked first (a missing or
 * malformed file fails the whole run before anything is written), then the chunks are added
 * with their provenance (`metadata.source`, `offset`, `line`). CARMA dedups by content hash,
 * so re-running adds nothing new.
 */
export async function ingest(
  memory: Memory,
  paths: string[],
  options: { namespace?: string; onProgress?: (p: IngestProgress) => void } = {},
): Promise<IngestResult> {
  const files = await collectFiles(paths);
  const perFile: Array<{ path: string; chunks: Chunk[] }> = [];
  for (const path of files) perFile.push({ path, chunks: await chunkFile(path) });
  const chunksTotal = perFile.reduce((n, f) => n + f.chunks.length, 0);
  const result: IngestResult = { files: [], added: 0, duplicate: 0, merged: 0, chunks: 0 };
  let chunksDone = 0;
  for (const [i, file] of perFile.entries()) {
    const r: IngestFileResult = {
      path: file.path,
      chunks: file.chunks.length,
      added: 0,
      duplicate: 0,
      merged: 0,
    };
    if (file.chunks.length > 0) {
      const added = await memory.addMany(
        file.chunks.map((c) => ({
          text: c.text,
          namespace: options.namespace ?? 'documents',
          metadata: {
            ...c.meta,
            source: c.source,
            offset: c.offset,
            line: c.line,
            kind: c.kind,
          },
        })),
      );
      for (const a of added) r[a.status]++;
    }
    chunksDone += file.chunks.length;
    result.files.push(r);
    result.added += r.added;
    result.duplicate += r.duplicate;
    result.merged += r.merged;
    result.chunks += r.chunks;
    options.onProgress?.({
      file: file.path,
      filesDone: i + 1,
      filesTotal: perFile.length,
      chunksDone,
      chunksTotal,
      result: r,
    });
  }
  await memory.flush();
  return result;
}
