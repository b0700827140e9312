import { relative } from 'node:path';
import { writtenAsIs } from '@aios/luna';
import { isZipped, kindOf } from '../ingest/files.js';

/** A path as the user would type it: relative to the working directory when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && rel.length < path.length ? rel : path;
}

/**
 * Where a fragment came from, as the CLI shows it: its file and line (`notes/bins.md:4`),
 * for a PDF its page (`manual.pdf p. 2`: a PDF fragment's line is its page), for an EPUB
 * book its chapter (`keeper.epub, "The Storm"`), for a Word document or an OpenDocument
 * text the file alone (they show no lines). `within` is the line of a sentence inside the
 * fragment (0 for its first), counted only where the fragment's text is the file's as
 * written (Luna's `writtenAsIs`: text, Markdown), as Luna counts a source's line.
 */
export function displaySource(
  path: string,
  line: number | null | undefined,
  within = 0,
  chapter?: string | null,
): string {
  if (chapter) return `${displayPath(path)}, "${chapter}"`;
  const kind = kindOf(path);
  if (line === null || line === undefined || isZipped(kind)) return displayPath(path);
  if (kind === 'pdf') return `${displayPath(path)} p. ${line}`;
  return `${displayPath(path)}:${line + (writtenAsIs(kind) ? within : 0)}`;
}
