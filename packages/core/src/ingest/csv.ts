/**
 * A CSV or TSV file (a contact list, a bank statement, a spreadsheet saved as text): each
 * row is one record, stored as one fragment that names its cells by their column
 * ("name: Anna Berg; city: Oslo; phone: +47 987 65 432") when the first row names the
 * columns, else gives the cells in order. Parsing is csv-parse's (RFC 4180: quoted cells,
 * doubled quotes, line breaks inside quotes), lenient where exports often are (a stray quote
 * inside a cell, rows of different lengths, mixed line ends).
 */
import { CsvError, parse } from 'csv-parse/sync';
import { type Chunk, lineCounter, textChunks } from './chunk.js';
import { invalidFile } from './json.js';

/** Delimiters a first line is looked at for; a `.tsv` file's is the tab. */
const DELIMITERS = [',', ';', '\t', '|'];

/** The delimiter the first line uses most outside quotes (a comma when it uses none). */
export function sniffDelimiter(text: string, path: string): string {
  if (/\.tsv$/i.test(path)) return '\t';
  const counts = new Map(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && counts.has(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > (counts.get(best) ?? 0)) best = d;
  return best;
}

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
  let parsed: Array<{ record: string[]; raw: string }>;
  try {
    parsed = parse(text, {
      delimiter: sniffDelimiter(text, path),
      record_delimiter: ['\r\n', '\n', '\r'],
      bom: true,
      raw: true,
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as Array<{ record: string[]; raw: string }>;
  } catch (error) {
    const line =
      error instanceof CsvError ? (error as CsvError & { lines?: number }).lines : undefined;
    const where = line === undefined ? '' : ` at line ${line}`;
    throw invalidFile(path, `not valid CSV${where} (${(error as Error).message})`, line);
  }
  const first = parsed[0]?.record ?? [];
  const header = isHeader(first, parsed.length) ? first.map((c) => c.trim()) : undefined;
  const lineOf = lineCounter(text);
  const rows: CsvRow[] = [];
  let cursor = 0;
  for (const [i, { record, raw }] of parsed.entries()) {
    // A row's raw text is as the file writes it: found from where the last one ended.
    const own = raw.replace(/^[\r\n]+/, '').replace(/(?:\r\n|\n|\r)$/, '');
    const at = text.indexOf(own, cursor);
    const offset = at === -1 ? cursor : at;
    cursor = offset + own.length;
    if (i === 0 && header) continue;
    const cells = record.flatMap((cell, c) => {
      const value = cell.trim();
      if (value === '') return [];
      const name = header?.[c];
      return [name ? `${name}: ${value}` : value];
    });
    if (cells.length > 0) rows.push({ text: cells.join('; '), line: lineOf(offset), offset });
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
