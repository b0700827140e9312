import { sentenceEnds } from '@aios/luna';
import type { FileKind } from './files.js';

/** A piece of a file, with where it came from. */
export interface Chunk {
  text: string;
  /** Absolute path of the file. */
  source: string;
  /**
   * Character offset of the chunk in the file (for HTML, in the page's source; for a PDF, in
   * its text, the pages joined by form feeds; for a Word document, an EPUB book, an OpenDocument
   * text, in its text).
   */
  offset: number;
  /** Line (1-based) where the chunk starts; for a PDF, its page. */
  line: number;
  kind: FileKind | 'chatgpt';
  /** Extra provenance (a ChatGPT export: conversation, conversationId, role, time). */
  meta?: Record<string, string>;
}

/** Longest chunk, in characters; paragraphs are packed up to it. */
export const MAX_CHUNK = 500;

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

/**
 * Line numbers of increasing offsets in `text`: each call counts only the newlines since
 * the previous one, so numbering every chunk of a file is one pass over it.
 */
export function lineCounter(text: string): (offset: number) => number {
  let at = 0;
  let line = 1;
  return (offset) => {
    if (offset < at) throw new RangeError(`line of offset ${offset} asked after ${at}`);
    for (
      let nl = text.indexOf('\n', at);
      nl !== -1 && nl < offset;
      nl = text.indexOf('\n', nl + 1)
    ) {
      line++;
    }
    at = offset;
    return line;
  };
}

/** The paragraphs of `text`, long ones cut under `MAX_CHUNK`, with their offsets. */
function* pieces(text: string): Generator<{ text: string; offset: number }> {
  const re = /\S[\s\S]*?(?=\n[ \t]*\n|$)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const para = m[0].trimEnd();
    // Long paragraphs are cut after the last sentence end that fits, else between words.
    for (let start = 0; start < para.length; ) {
      const end = start + MAX_CHUNK >= para.length ? para.length : cutPoint(para, start);
      const piece = para.slice(start, end).trim();
      if (piece) yield { text: piece, offset: m.index + start };
      start = end;
      while (start < para.length && /\s/.test(para[start] as string)) start++;
    }
  }
}

/** Where a text was taken from: the file's own text, and the offset in it of each offset. */
export interface TextOrigin {
  text: string;
  at(offset: number): number;
}

/**
 * Splits prose into paragraphs packed up to `MAX_CHUNK` characters (headings start a chunk,
 * but in plain text), lazily and in one pass: the time is linear in the length of the text.
 * `origin` says where in the file a text made from it (an HTML page's) came from.
 */
export function* textChunks(
  text: string,
  source: string,
  kind: 'text' | 'markdown' | 'html' = 'text',
  origin?: TextOrigin,
): Generator<Chunk> {
  const lineAt = lineCounter(origin?.text ?? text);
  let current: { text: string; offset: number } | undefined;
  const chunk = (c: { text: string; offset: number }): Chunk => {
    const offset = origin ? origin.at(c.offset) : c.offset;
    return { text: c.text, source, offset, line: lineAt(offset), kind };
  };
  // Whether the chunk so far holds headings only. In a page, the next heading (a section's
  // first subsection) joins them, so that no fragment is a page's title or a heading alone;
  // a Markdown file keeps a fragment per heading, as written.
  let headings = false;
  for (const p of pieces(text)) {
    const heading = kind !== 'text' && /^#{1,6}\s/.test(p.text);
    if (
      current &&
      ((heading && !(headings && kind === 'html')) ||
        current.text.length + 2 + p.text.length > MAX_CHUNK)
    ) {
      yield chunk(current);
      current = undefined;
    }
    headings = current ? headings && heading : heading;
    current = current ? { text: `${current.text}\n\n${p.text}`, offset: current.offset } : p;
  }
  if (current) yield chunk(current);
}

/** Every chunk of `text` (see `textChunks`). */
export function chunkText(
  text: string,
  source: string,
  kind: 'text' | 'markdown' = 'text',
): Chunk[] {
  return [...textChunks(text, source, kind)];
}
