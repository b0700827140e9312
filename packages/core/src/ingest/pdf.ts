/**
 * The text of a PDF, page by page, for ingest.
 *
 * PDF.js (Mozilla's reader, the build unpdf bundles: 2 MB, no canvas) parses the file and
 * gives each page's text as positioned pieces. They are put back into lines (PDF.js marks
 * line ends), lines into paragraphs where the gap to the next line is clearly wider than
 * the gap between the lines of a paragraph (the page's lower quartile of gaps), or the
 * text jumps up (a new column), and a word hyphenated across a line end is joined again. A
 * scanned page (an image) holds no text to read.
 *
 * unpdf is an optional peer (`readers.ts`); PDF.js runs on a thread of its own
 * (`pdf-thread.ts`), so that reading a large PDF does not hold the JS thread.
 */
import { hasUnspaced } from '@aios/utils';
import { type Chunk, textChunks } from './chunk.js';
import { hasPdfHeader, NOT_A_PDF } from './files.js';
import { invalidFile } from './json.js';
import { type OpenFailure, PdfTooLarge, readPdfPieces, type TextPiece } from './pdf-thread.js';

/** Why PDF.js could not open a file, as a skip says it. */
function openProblem(failure: OpenFailure): string {
  if (failure.name === 'PasswordException') return 'an encrypted PDF (it needs a password)';
  return `a damaged PDF (${failure.message})`;
}

export interface Line {
  text: string;
  /** Baseline height on the page (PDF units, growing upwards). */
  y: number;
}

/** A line's text: spaces collapsed, a table of contents' dot leaders made an ellipsis. */
const tidy = (text: string): string =>
  text
    .replace(/\s+/g, ' ')
    .replace(/(?: ?\.){4,} ?/g, ' … ')
    .trim();

/** The lines of a page, from its text pieces in the order PDF.js gives them. */
function lines(pieces: readonly TextPiece[]): Line[] {
  const out: Line[] = [];
  let text = '';
  let y: number | undefined;
  for (const [str, endsLine, baseline] of pieces) {
    if (y === undefined && str.trim() !== '') y = baseline;
    text += str;
    if (endsLine) {
      if (text.trim() !== '') out.push({ text: tidy(text), y: y ?? 0 });
      text = '';
      y = undefined;
    }
  }
  if (text.trim() !== '') out.push({ text: tidy(text), y: y ?? 0 });
  return out;
}

/** Joins the next line of a paragraph to it: a hyphenated word whole, CJK without a space. */
function join2(paragraph: string, line: string): string {
  if (/\p{L}-$/u.test(paragraph) && /^\p{Ll}/u.test(line)) return paragraph.slice(0, -1) + line;
  if (hasUnspaced(paragraph.slice(-1)) && hasUnspaced(line.slice(0, 1))) return paragraph + line;
  return `${paragraph} ${line}`;
}

/** A page's text: its paragraphs separated by blank lines. */
export function pageParagraphs(lineList: readonly Line[]): string {
  const gaps = lineList
    .slice(1)
    .map((l, i) => (lineList[i] as Line).y - l.y)
    // Not the small steps of a superscript or an overlap.
    .filter((gap) => gap > 1)
    .sort((a, b) => a - b);
  // Most gaps are between the lines of a paragraph: the lower quartile is one of those.
  const usual = gaps.length > 0 ? (gaps[gaps.length >> 2] as number) : 0;
  const paragraphs: string[] = [];
  let current = '';
  lineList.forEach((line, i) => {
    const gap = i === 0 ? 0 : (lineList[i - 1] as Line).y - line.y;
    // A wider gap than usual ends a paragraph; so does a jump up the page (a new column).
    if (current !== '' && (gap <= 0 || (usual > 0 && gap > usual * 1.4))) {
      paragraphs.push(current);
      current = '';
    }
    current = current === '' ? line.text : join2(current, line.text);
  });
  if (current !== '') paragraphs.push(current);
  return paragraphs.join('\n\n');
}

/** A line with its digits made alike: a running head with its page number, on any page. */
const shape = (text: string) => text.replace(/\d+/g, '#').toLowerCase();
/** A line that is a page number alone: 7, - 7 -, vii, Page 7. */
const PAGE_NUMBER = /^(?:page\s+)?[-–—(]?\s*(?:\d{1,5}|[ivxlcdm]{1,7})\s*[-–—)]?$/i;

/**
 * Takes out of each page its running heads and feet: its top or bottom line that is a page
 * number alone, or that the same edge of the page before or after repeats, digits aside
 * ("Chapter 3: Utilities 6" then "Chapter 3: Utilities 7"), or that of a third of the
 * pages (at least three). The first page keeps its top line: a document's title is often
 * its running head too.
 */
export function dropRunningLines(pages: Line[][]): Line[][] {
  /** Each page's top and bottom line, by height on the page, with their shapes. */
  const edges = pages.map((page) => {
    if (page.length < 2) return undefined;
    let top = page[0] as Line;
    let bottom = page[0] as Line;
    for (const line of page) {
      if (line.y > top.y) top = line;
      if (line.y < bottom.y) bottom = line;
    }
    return [top, bottom].map((line) => ({ line, shape: shape(line.text) }));
  });
  const seen = [new Map<string, number>(), new Map<string, number>()] as const;
  for (const page of edges) {
    page?.forEach(({ shape: shaped }, edge) => {
      seen[edge as 0 | 1].set(shaped, (seen[edge as 0 | 1].get(shaped) ?? 0) + 1);
    });
  }
  const least = Math.max(3, Math.ceil(pages.length / 3));
  const running = (i: number, edge: 0 | 1): boolean => {
    const at = edges[i]?.[edge];
    if (!at) return false;
    if (PAGE_NUMBER.test(at.line.text)) return true;
    if (i === 0 && edge === 0) return false;
    return (
      edges[i - 1]?.[edge]?.shape === at.shape ||
      edges[i + 1]?.[edge]?.shape === at.shape ||
      (seen[edge].get(at.shape) ?? 0) >= least
    );
  };
  return pages.map((page, i) => {
    const drop = new Set<Line>();
    for (const edge of [0, 1] as const) {
      if (running(i, edge)) drop.add(edges[i]?.[edge]?.line as Line);
    }
    return drop.size > 0 ? page.filter((l) => !drop.has(l)) : page;
  });
}

/**
 * The text of each page of the PDF in `bytes` (an empty string for a page without text),
 * running heads and feet left out (`dropRunningLines`); `INGEST_INVALID` when it cannot be
 * opened or needs more memory than PDF.js is given. Once `signal` is aborted, rejects with
 * its reason.
 */
export async function pdfPages(
  bytes: Uint8Array,
  path: string,
  signal?: AbortSignal,
): Promise<string[]> {
  if (!hasPdfHeader(bytes)) throw invalidFile(path, NOT_A_PDF);
  const pages: Line[][] = [];
  let failure: OpenFailure | undefined;
  try {
    failure = await readPdfPieces(bytes, (pieces) => pages.push(lines(pieces)), signal);
  } catch (error) {
    if (error instanceof PdfTooLarge)
      throw invalidFile(path, `too large to read (${error.message})`);
    throw error;
  }
  if (failure) throw invalidFile(path, openProblem(failure));
  return dropRunningLines(pages).map(pageParagraphs);
}

/**
 * The chunks of a PDF's pages (`pdfPages`), as prose is cut, none across pages: each
 * with its page as its line, and its offset in the pages' text joined by form feeds.
 */
export function* pdfChunks(pages: readonly string[], source: string): Generator<Chunk> {
  let start = 0;
  for (const [i, page] of pages.entries()) {
    for (const c of textChunks(page, source)) {
      yield { ...c, offset: start + c.offset, line: i + 1, kind: 'pdf' };
    }
    start += page.length + 1;
  }
}
