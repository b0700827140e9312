import { AiosError } from '@aios/utils';
import { type Chunk, lineCounter, textChunks } from './chunk.js';

/**
 * How deeply arrays and objects may nest in an ingested JSON value. `JSON.parse` takes any
 * depth, but turning a value back into text recurses, and 100,000 levels overflow the stack.
 */
export const MAX_JSON_DEPTH = 256;

/**
 * A file ingest cannot read. `details.reason` is the message without the path: what a run
 * that skips the file says beside it.
 */
export function invalidFile(path: string, message: string, line?: number): AiosError {
  return new AiosError('INGEST_INVALID', `${path}: ${message}`, {
    details: { path, reason: message, ...(line === undefined ? {} : { line }) },
  });
}

/** Why a file that ingest refused (`INGEST_INVALID`, `INGEST_TOO_DEEP`) is skipped, or undefined for other errors. */
export function skipReason(error: unknown): string | undefined {
  if (!(error instanceof AiosError)) return undefined;
  if (error.code !== 'INGEST_INVALID' && error.code !== 'INGEST_TOO_DEEP') return undefined;
  const reason = error.details?.reason;
  return typeof reason === 'string' ? reason : error.message;
}

/**
 * Where, in `text` from `start` to `end`, brackets nest deeper than `MAX_JSON_DEPTH` (the
 * index), or -1: one pass over the characters, strings skipped.
 */
function tooDeepAt(text: string, start: number, end: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === 93 || c === 125) depth--;
  }
  return -1;
}

function tooDeep(path: string, line: number): AiosError {
  const reason = `JSON nested more than ${MAX_JSON_DEPTH} levels deep; not ingested`;
  return new AiosError('INGEST_TOO_DEEP', `${path}:${line}: ${reason}`, {
    details: { path, line, maxDepth: MAX_JSON_DEPTH, reason: `line ${line}: ${reason}` },
  });
}

/** Parses a `.json` file, refusing one nested too deeply (with the line where it gets too deep). */
export function parseJsonFile(text: string, path: string): unknown {
  const deep = tooDeepAt(text, 0, text.length);
  if (deep !== -1) throw tooDeep(path, lineCounter(text)(deep));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidFile(path, `not valid JSON (${(error as Error).message})`);
  }
}

/** A record of a `.jsonl` file: its value, its line (from 1) and where that line starts. */
export interface JsonLine {
  value: unknown;
  line: number;
  offset: number;
}

/** The records of a `.jsonl` file, one per non-blank line, each parsed and checked as it comes. */
export function* jsonLines(text: string, path: string): Generator<JsonLine> {
  let line = 1;
  for (let offset = 0; offset < text.length; line++) {
    const nl = text.indexOf('\n', offset);
    const end = nl === -1 ? text.length : nl;
    const raw = text.slice(offset, end);
    if (raw.trim()) {
      if (tooDeepAt(text, offset, end) !== -1) throw tooDeep(path, line);
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (error) {
        throw invalidFile(
          path,
          `line ${line} is not valid JSON (${(error as Error).message})`,
          line,
        );
      }
      yield { value, line, offset };
    }
    offset = end + 1;
  }
}

/** The text of one record: a string, a `text`/`content`/`body`/`message` field, else its JSON. */
export function recordText(value: unknown): string {
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

/** The chunks of one record at `offset` / `line` of its file. */
export function* recordChunks(
  value: unknown,
  source: string,
  kind: 'json' | 'jsonl',
  offset: number,
  line: number,
): Generator<Chunk> {
  for (const c of textChunks(recordText(value), source)) {
    if (c.text.trim()) yield { ...c, offset: offset + c.offset, line, kind };
  }
}
