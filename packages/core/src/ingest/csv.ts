/**
 * A CSV or TSV file (a contact list, a bank statement, a spreadsheet saved as text): each
 * row is one record, stored as one fragment that names its cells by their column
 * ("name: Anna Berg; city: Oslo; phone: +47 987 65 432") when the first row names the
 * columns, else gives the cells in order. Parsing is Papa Parse's (RFC 4180: quoted cells,
 * doubled quotes, line breaks inside quotes; the delimiter guessed among , ; tab |), lenient
 * where exports often are (a stray quote inside a cell, rows of different lengths); only a
 * quote never closed, which swallows the rest of the file, makes it invalid.
 */
import Papa from 'papaparse';
import { type Chunk, lineCounter, textChunks } from './chunk.js';
import { invalidFile } from './json.js';

/** A number or a date: what a row of data holds and a row of column names does not. */
const VALUE = /^[-+]?(?:\d[\d\s.,:/-]*|[.,]\d+)%?$/;

/**
 * Whether the first row names the columns: more than one row, and its cells all filled,
 * different from one another, and none a number or a date.
 */
function isHeader(first: readonly string[], rows: number): boolean {
  if (rows < 2) return false;
  const names = first.map((c) => c.trim().toLowerCase());
  return names.every((n) => n !== '' && !VALUE.test(n)) && new Set(names).size === names.length;
}

/** One row of a CSV file: its text, its line (from 1) and where it starts. */
export interface CsvRow {
  text: string;
  line: number;
  offset: number;
}

/** The rows of a CSV file as texts, the column names row left out (it names each cell). */
export function csvRows(text: string, path: string): CsvRow[] {
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const shift = text.length - body.length;
  const parsed: Array<{ cells: string[]; offset: number }> = [];
  let end = 0;
  let unclosed: number | undefined;
  Papa.parse<string[]>(body, {
    skipEmptyLines: true,
    ...(/\.tsv$/i.test(path) ? { delimiter: '\t' } : {}),
    step: (row) => {
      // A row starts where the one before ended, past the line breaks between them.
      let offset = end;
      while (body[offset] === '\n' || body[offset] === '\r') offset++;
      end = row.meta.cursor;
      if (row.errors.some((e) => e.code === 'MissingQuotes')) unclosed ??= offset;
      parsed.push({ cells: row.data, offset: offset + shift });
    },
  });
  const lineOf = lineCounter(text);
  if (unclosed !== undefined) {
    const line = lineOf(unclosed + shift);
    throw invalidFile(path, `not valid CSV: a quote opened at line ${line} is never closed`, line);
  }
  const first = parsed[0]?.cells ?? [];
  const header = isHeader(first, parsed.length) ? first.map((c) => c.trim()) : undefined;
  const rows: CsvRow[] = [];
  for (const [i, { cells, offset }] of parsed.entries()) {
    if (i === 0 && header) continue;
    const named = cells.flatMap((cell, c) => {
      const value = cell.trim();
      if (value === '') return [];
      const name = header?.[c];
      return [name ? `${name}: ${value}` : value];
    });
    if (named.length > 0) rows.push({ text: named.join('; '), line: lineOf(offset), offset });
  }
  return rows;
}

/** The chunks of a CSV file: one per row (a long row cut as text is). */
export function* csvChunks(rows: readonly CsvRow[], source: string): Generator<Chunk> {
  for (const row of rows) {
    for (const c of textChunks(row.text, source)) {
      // The row's text is made of its cells: its pieces are placed where the row starts.
      if (c.text.trim()) yield { ...c, offset: row.offset, line: row.line, kind: 'csv' };
    }
  }
}
