/**
 * The readable text of an HTML page (a saved web page, an exported note), for ingest.
 *
 * htmlparser2 (an optional peer, `readers.ts`) parses it, as forgiving of unclosed tags as
 * a browser. What is not text to read (scripts, styles, the head, SVG, navigation menus,
 * buttons, and what the page hides: `hidden`, `aria-hidden="true"`, an inline
 * `display: none`; footnote marks and the links back from notes) is left out. Blocks (paragraphs, sections, list items, table rows)
 * become paragraphs and lines, and headings Markdown headings, so the chunker starts a
 * chunk at each and Luna reads a heading as the subject of what follows. The page's title
 * heads the text when no `<h1>` does.
 *
 * Each piece of the text keeps its offset in the page (`PageText.at`), so a fragment cites
 * the page's own line.
 */
import type { Parser as ParserType } from 'htmlparser2';
import { loadReader } from './readers.js';
import { TextBuilder } from './text-builder.js';

/** Elements whose content is not text to read (the title is read apart). */
const HIDDEN = new Set([
  'button',
  'head',
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'canvas',
  'iframe',
  'object',
  'select',
  'nav',
]);

/** Elements that start and end a paragraph. */
const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'caption',
  'center',
  'dd',
  'details',
  'dialog',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'header',
  'hgroup',
  'hr',
  'legend',
  'main',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'ul',
]);

/** A footnote's mark in the text, or the link back to it (ARIA roles, EPUB's types). */
const NOTE_LINK = /\b(?:doc-)?(?:noteref|backlink)\b/;

/** Whether an element's attributes hide it from the reader (a note's number is no text). */
const hides = (attributes: Record<string, string>): boolean =>
  attributes.hidden !== undefined ||
  attributes['aria-hidden'] === 'true' ||
  /display\s*:\s*none/i.test(attributes.style ?? '') ||
  NOTE_LINK.test(`${attributes.role ?? ''} ${attributes['epub:type'] ?? ''}`);

/** The text of a page, and where in the page each of its offsets comes from. */
export interface PageText {
  text: string;
  /** The offset in the page of offset `offset` of `text`. */
  at(offset: number): number;
}

/**
 * The text of the page `html` (htmlparser2 must be installed: `readerMissing('html')`).
 * `title: false` leaves the page's title out (a book's chapters repeat the book's).
 */
export async function pageText(html: string, options: { title?: boolean } = {}): Promise<PageText> {
  const { Parser } = await loadReader<typeof import('htmlparser2')>('htmlparser2');
  const out = new TextBuilder();
  const { marks } = out;
  /** Depth of the open elements, and that of the element hiding what it holds, if any. */
  let depth = 0;
  let hiddenAt: number | undefined;
  /** Whether what hides is the head (where the page's title is), not an SVG's own title. */
  let inHead = false;
  let pre = 0;
  let cells = 0;
  let title: { text: string; at: number } | undefined;
  let inTitle = false;
  let h1 = false;

  const ask = out.ask.bind(out);

  const parser: ParserType = new Parser(
    {
      onopentag(name, attributes) {
        depth++;
        if (name === 'title' && (hiddenAt === undefined || inHead)) {
          inTitle = true;
          title ??= { text: '', at: parser.endIndex + 1 };
          return;
        }
        if (hiddenAt === undefined && (HIDDEN.has(name) || hides(attributes))) {
          hiddenAt = depth;
          inHead = name === 'head';
        }
        if (hiddenAt !== undefined) return;
        const heading = /^h([1-6])$/.exec(name);
        if (heading) {
          ask('\n\n');
          out.lead = `${'#'.repeat(Number(heading[1]))} `;
          if (heading[1] === '1') h1 = true;
        } else if (name === 'li') {
          ask('\n');
          out.lead = '- ';
        } else if (name === 'br') {
          ask('\n');
        } else if (name === 'tr') {
          ask('\n');
          cells = 0;
        } else if (name === 'td' || name === 'th') {
          if (cells++ > 0) ask(' | ');
        } else if (BLOCKS.has(name)) {
          ask('\n\n');
          if (name === 'pre') pre++;
        }
      },
      onclosetag(name) {
        const closing = depth;
        depth = Math.max(0, depth - 1);
        if (name === 'title' && inTitle) {
          inTitle = false;
          return;
        }
        if (hiddenAt !== undefined) {
          if (closing <= hiddenAt) hiddenAt = undefined;
          return;
        }
        if (/^h[1-6]$/.test(name)) {
          ask('\n\n');
          out.lead = '';
        } else if (name === 'li' || name === 'tr') {
          ask('\n');
          out.lead = '';
        } else if (BLOCKS.has(name)) {
          ask('\n\n');
          if (name === 'pre') pre = Math.max(0, pre - 1);
        }
      },
      ontext(data) {
        if (inTitle) {
          if (title) title.text += data;
          return;
        }
        if (hiddenAt !== undefined) return;
        const at = parser.startIndex;
        if (pre === 0) out.flow(data, at);
        else if (data !== '') out.emit(data, at);
      },
    },
    { decodeEntities: true },
  );
  parser.end(html);

  const heading = title?.text.replace(/\s+/g, ' ').trim();
  if (title && heading && !h1 && options.title !== false) out.prepend(`# ${heading}\n\n`, title.at);
  const text = out.text();
  return {
    text,
    at(offset) {
      // The last piece that starts at or before `offset`.
      let lo = 0;
      let hi = marks.length / 2 - 1;
      if (hi < 0) return 0;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((marks[2 * mid] as number) <= offset) lo = mid;
        else hi = mid - 1;
      }
      const start = marks[2 * lo] as number;
      const source = marks[2 * lo + 1] as number;
      const next = marks[2 * lo + 3];
      const guess = source + Math.max(0, offset - start);
      return next === undefined ? Math.min(guess, html.length) : Math.min(guess, next);
    },
  };
}
