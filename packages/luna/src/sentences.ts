/**
 * Whole sentences of a note, for quoting. Notes are often Markdown or hard-wrapped plain
 * text, where a line break is not the end of a sentence: the lines of a paragraph are joined
 * first, then cut into sentences.
 *
 * - A paragraph is a run of lines up to a blank line (or a heading, list item, fence...);
 *   its lines are joined with a space.
 * - Headings (`# Title`, or a line underlined with `===`/`---`) are titles, not sentences:
 *   they are left out, as are thematic breaks and fenced code blocks (code is not prose).
 * - A list item (`-`, `*`, `+`, `1.`, `1)`) is a unit of its own, with its continuation
 *   lines, without its marker; so is a table row. A block quote is read without its `>`.
 * - A sentence ends at `.`, `!`, `?` or `…` (with any closing quotes or brackets) before
 *   white space and a word that does not start in lower case, and at `。`, `！`, `？`.
 *   Abbreviations (`e.g.`, `i.e.`, `Dr.`, `vs.`, initials, `U.S.`) do not end one, nor does
 *   a point inside a number (`3.5`, `v1.2`).
 */

/** Abbreviations after which a point never ends a sentence (lower case, without the last point). */
const ABBREVIATIONS = new Set([
  'e.g',
  'i.e',
  'cf',
  'vs',
  'viz',
  'approx',
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'st',
  'sr',
  'jr',
  'fig',
  'figs',
  'no',
  'nos',
  'vol',
  'p',
  'pp',
  'ca',
]);

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
const ATX_HEADING = /^\s{0,3}#{1,6}(?:\s|$)/;
const SETEXT_UNDERLINE = /^\s{0,3}(?:=+|-+)\s*$/;
const THEMATIC_BREAK = /^\s{0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$/;
const LIST_ITEM = /^\s*(?:[-*+]|\d{1,9}[.)])\s+/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$/;
const QUOTE_MARKER = /^\s{0,3}(?:>\s?)+/;
const TASK_BOX = /^\[[ xX]\]\s+/;

/** Candidate sentence ends: terminal punctuation, closers, then white space. */
const END = /[.!?…]+["'”’)\]]*(?=\s)|[。！？]+["'”’」』)\]]*/gu;

/** The word just before a point at `at`, lower case, without opening punctuation. */
function wordBefore(text: string, at: number): string {
  const match = /[^\s([{"'“‘]+$/u.exec(text.slice(0, at));
  return match ? match[0].toLowerCase() : '';
}

/** True when the point ending `text[at - 1]` belongs to an abbreviation or an initial. */
function isAbbreviation(text: string, at: number, next: string): boolean {
  const word = wordBefore(text, at);
  if (word === '') return false;
  if (ABBREVIATIONS.has(word)) return word !== 'no' || /\d/.test(next);
  // Initials and dotted abbreviations: "J.", "U.S.", "a.m."
  if (/^\p{L}$/u.test(word) && /\p{Lu}/u.test(text.charAt(at - 1))) return true;
  return /^(?:\p{L}\.)+\p{L}$/u.test(word);
}

/**
 * Offsets in `text` (one paragraph of prose) just after each sentence end that has more
 * text after it: where a sentence may be cut off from the next.
 */
export function sentenceEnds(text: string): number[] {
  const out: number[] = [];
  END.lastIndex = 0;
  for (let m = END.exec(text); m; m = END.exec(text)) {
    const end = m.index + m[0].length;
    const rest = text.slice(end).trimStart();
    if (rest === '') break;
    if (!/[。！？]/u.test(m[0])) {
      // A lower-case word goes on with the same sentence ("e.g. the", "... and", "Yahoo! is").
      if (/\p{Ll}/u.test(rest.charAt(0))) continue;
      if (/^\.(?!\.)/.test(m[0]) && isAbbreviation(text, m.index, rest)) continue;
    }
    out.push(end);
  }
  return out;
}

/** Cuts one paragraph into sentences (its line breaks and runs of spaces become one space). */
export function splitSentences(paragraph: string): string[] {
  const text = paragraph.replace(/\s+/g, ' ').trim();
  const out: string[] = [];
  let start = 0;
  for (const end of [...sentenceEnds(text), text.length]) {
    const sentence = text.slice(start, end).trim();
    if (sentence) out.push(sentence);
    start = end;
  }
  return out;
}

interface Block {
  kind: 'paragraph' | 'item' | 'row';
  lines: string[];
  /** 0-based line number in the text of each of `lines`. */
  at: number[];
  /** The text of the nearest heading above the block, if any. */
  heading: string | undefined;
}

/** A heading's text without its `#` marks (and closing `#`s). */
function headingText(line: string): string {
  return line
    .replace(/^\s{0,3}#{1,6}\s*/, '')
    .replace(/\s+#+\s*$/, '')
    .trim();
}

/** The prose blocks of a text: paragraphs, list items and table rows, in order. */
function proseBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let open: Block | undefined;
  let fence: string | undefined;
  let heading: string | undefined;
  const close = () => {
    if (open && open.lines.length > 0) blocks.push(open);
    open = undefined;
  };
  const start = (kind: Block['kind'], first: string, at: number): Block => ({
    kind,
    lines: [first],
    at: [at],
    heading,
  });
  const lines = text.split(/\r\n|\r|\n/);
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n] as string;
    if (fence !== undefined) {
      const m = FENCE.exec(raw);
      if (m && (m[1] as string)[0] === fence[0] && (m[1] as string).length >= fence.length) {
        fence = undefined;
      }
      continue;
    }
    const fenced = FENCE.exec(raw);
    if (fenced) {
      close();
      fence = fenced[1] as string;
      continue;
    }
    const line = raw.replace(QUOTE_MARKER, '');
    if (line.trim() === '') {
      close();
      continue;
    }
    if (ATX_HEADING.test(line)) {
      close();
      heading = headingText(line) || heading;
      continue;
    }
    if (SETEXT_UNDERLINE.test(line) && (open === undefined || open.kind === 'paragraph')) {
      // Under a paragraph: that paragraph was a heading. Alone: a break, or nothing.
      if (open) heading = open.lines.join(' ');
      open = undefined;
      continue;
    }
    if (THEMATIC_BREAK.test(line)) {
      close();
      continue;
    }
    if (TABLE_ROW.test(line)) {
      close();
      if (!TABLE_RULE.test(line)) {
        const cells = line
          .trim()
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((c) => c.trim())
          .filter(Boolean);
        if (cells.length > 0) blocks.push(start('row', cells.join(' | '), n));
      }
      continue;
    }
    const item = LIST_ITEM.exec(line);
    // As in CommonMark, a numbered item interrupts a paragraph only when it is "1." (a wrapped
    // line may well start with "2019. ").
    const numberedNotOne = /^\s*\d+[.)]/.test(line) && !/^\s*1[.)]/.test(line);
    if (item && !(open?.kind === 'paragraph' && numberedNotOne)) {
      close();
      open = start('item', line.slice(item[0].length).replace(TASK_BOX, ''), n);
      continue;
    }
    if (!open) open = start('paragraph', line.trim(), n);
    else {
      open.lines.push(line.trim());
      open.at.push(n);
    }
  }
  close();
  return blocks;
}

/** A sentence of a text, with where it is and what it is under. */
export interface SentenceSpan {
  text: string;
  /** 0-based line of the text where the sentence starts. */
  line: number;
  /** The nearest heading above it (Markdown `#` or underlined), if any. */
  heading?: string;
  /** Index of its block (paragraph, list item or row): sentences of one block share it. */
  block: number;
}

/** Non-space characters of `text`: an offset that survives joining lines and collapsing spaces. */
const solid = (text: string) => text.replace(/\s+/g, '').length;

/**
 * `sentences` with positions: each sentence's first line in `text` (a sentence may run over
 * several lines of a paragraph) and the heading it sits under.
 */
export function sentenceSpans(text: string): SentenceSpan[] {
  const out: SentenceSpan[] = [];
  proseBlocks(text).forEach((block, b) => {
    const joined = block.lines.join(' ');
    const parts = block.kind === 'row' ? [joined.trim()] : splitSentences(joined);
    // Where each line starts, counted in non-space characters of the block.
    const starts: number[] = [];
    let count = 0;
    for (const line of block.lines) {
      starts.push(count);
      count += solid(line);
    }
    let before = 0;
    for (const part of parts) {
      let i = starts.length - 1;
      while (i > 0 && (starts[i] as number) > before) i--;
      if (/[\p{L}\p{N}]/u.test(part)) {
        out.push({
          text: part,
          line: block.at[i] ?? 0,
          ...(block.heading ? { heading: block.heading } : {}),
          block: b,
        });
      }
      before += solid(part);
    }
  });
  return out;
}

/**
 * The sentences of a text, each whole: paragraphs joined across hard line breaks and cut
 * into sentences, list items and table rows as units, headings and code left out (see the
 * rules above).
 */
export function sentences(text: string): string[] {
  return sentenceSpans(text).map((s) => s.text);
}
